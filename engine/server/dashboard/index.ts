import type { FastifyInstance } from "fastify";
import { PAGE_HTML } from "./page";
import { APP_CSS } from "./style";
import { DOM_JS } from "./client/dom";
import { CHARTS_JS } from "./client/charts";
import { VIEWS_JS } from "./client/views";
import { MAIN_JS } from "./client/main";

/** The client files, in dependency order, in one strict-mode scope so nothing leaks onto window. */
const APP_JS = `"use strict";\n(() => {\n${[DOM_JS, CHARTS_JS, VIEWS_JS, MAIN_JS].join("\n")}\n})();\n`;

/**
 * Everything loads from this origin only; no inline script or style can run, so a name shown on the
 * page can never become code. Data requests go to the same origin with the bearer token.
 */
const HEADERS = {
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
};

const ASSETS: Array<{ url: string; type: string; body: string }> = [
  { url: "/", type: "text/html; charset=utf-8", body: PAGE_HTML },
  { url: "/dashboard/app.js", type: "text/javascript; charset=utf-8", body: APP_JS },
  { url: "/dashboard/app.css", type: "text/css; charset=utf-8", body: APP_CSS },
];

/** The dashboard's files hold no data, so they are served without a token (see the open set in app.ts). */
export const DASHBOARD_PATHS = ASSETS.map((a) => a.url);

export function registerDashboard(app: FastifyInstance): void {
  for (const asset of ASSETS) {
    app.get(asset.url, async (_request, reply) => reply.headers({ ...HEADERS, "content-type": asset.type }).send(asset.body));
  }
}
