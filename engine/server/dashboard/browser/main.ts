/**
 * Browser code, the bundle's entry: the token and the refresh loop. The token arrives in the URL
 * fragment (never sent to the server), is moved to sessionStorage (gone when the tab closes) and wiped
 * from the address bar and history; without one, or when the daemon refuses it, the page asks for it.
 */
import { el } from "./dom";
import { itemCharts, itemsTable, jobList, keyView, type ItemDetail } from "./views";
import type { Job, Point, RpoHistory, VaultStatus } from "./wire";

const TOKEN_KEY = "lifeboat.token";
const REFRESH_MS = 5000;

/** An element of the page (page.ts); its type says which kind the code expects there. */
function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error("the page has no element #" + id);
  return found as T;
}
const loginForm = () => $<HTMLFormElement>("login");
const tokenInput = () => loginForm().elements.namedItem("token") as HTMLInputElement;

class Unauthorized extends Error {}

function takeTokenFromFragment(): void {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!match) return;
  sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
  history.replaceState(null, "", location.pathname + location.search);
}

async function api<T>(path: string): Promise<T> {
  const response = await fetch(path, { headers: { authorization: "Bearer " + sessionStorage.getItem(TOKEN_KEY) }, cache: "no-store" });
  const body = await response.json().catch(() => null);
  if (response.status === 401 || response.status === 403) throw new Unauthorized(body?.error ? body.error.message : "token refused");
  if (!response.ok) throw new Error(body?.error ? body.error.message : "HTTP " + response.status);
  return body as T;
}

interface PageData {
  status: VaultStatus;
  jobs: Job[];
  details: ItemDetail[];
}

async function load(hours: string): Promise<PageData> {
  const [status, jobs] = await Promise.all([api<VaultStatus>("/v1/status"), api<Job[]>("/v1/jobs?limit=15")]);
  const details = await Promise.all(
    status.items.map(async (item) => {
      const base = "/v1/items/" + encodeURIComponent(item.name);
      const [history, points] = await Promise.all([api<RpoHistory>(base + "/rpo-history?hours=" + hours), api<Point[]>(base + "/points")]);
      return { item, history, points };
    }),
  );
  return { status, jobs, details };
}

function render(data: PageData): void {
  $("vault").textContent = "vault " + data.status.vault.id + " · " + data.status.vault.dir;
  $("key").replaceChildren(keyView(data.status.vault));
  $("items").replaceChildren(itemsTable(data.status.items));
  $("charts").replaceChildren(
    ...(data.details.length ? data.details.map(itemCharts) : [el("p", { class: "muted" }, "Charts appear once an item has recovery points.")]),
  );
  $("jobs").replaceChildren(jobList(data.jobs));
}

/** One refresh at a time: a refresh asked for meanwhile (the window changed) runs right after it. */
let timer: ReturnType<typeof setTimeout> | undefined,
  running = false,
  again = false;
async function refresh(): Promise<void> {
  clearTimeout(timer);
  if (running) return void (again = true);
  running = true;
  try {
    const data = await load($<HTMLSelectElement>("hours").value);
    if (!sessionStorage.getItem(TOKEN_KEY)) return; // signed out meanwhile
    render(data);
    $("refresh").textContent = "updated " + new Date().toLocaleTimeString();
    $("refresh").classList.remove("error");
    document.body.dataset.loaded = "true";
  } catch (error) {
    if (error instanceof Unauthorized) signOut("The daemon refused the token: " + error.message);
    else {
      $("refresh").textContent = "refresh failed: " + (error as Error).message;
      $("refresh").classList.add("error");
    }
  } finally {
    running = false;
  }
  if (!sessionStorage.getItem(TOKEN_KEY)) return;
  if (again) {
    again = false;
    return refresh();
  }
  timer = setTimeout(refresh, REFRESH_MS);
}

function signIn(): void {
  loginForm().hidden = true;
  $("content").hidden = false;
  $("forget").hidden = false;
  refresh();
}

function signOut(message: string): void {
  clearTimeout(timer);
  sessionStorage.removeItem(TOKEN_KEY);
  delete document.body.dataset.loaded;
  $("content").hidden = true;
  $("forget").hidden = true;
  loginForm().hidden = false;
  $("login-error").textContent = message || "";
  tokenInput().focus();
}

document.addEventListener("DOMContentLoaded", () => {
  takeTokenFromFragment();
  loginForm().addEventListener("submit", (event) => {
    event.preventDefault();
    const input = tokenInput();
    sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    input.value = "";
    signIn();
  });
  $("forget").addEventListener("click", () => signOut(""));
  $("hours").addEventListener("change", refresh);
  // A link with a fresh token opened in this tab: use it at once.
  window.addEventListener("hashchange", () => {
    if (!/token=/.test(location.hash)) return;
    takeTokenFromFragment();
    signIn();
  });
  if (sessionStorage.getItem(TOKEN_KEY)) signIn();
  else signOut("");
});
