import type { FastifyInstance } from "fastify";
import { PAGE_HTML } from "./page";
import { APP_CSS } from "./style";
import { dashboardScript } from "./script";

/**
 * Everything loads from this origin only; no inline script or style can run, so a name shown on the
 * page can never become code. Data requests go to the same origin with the bearer token.
 */
const HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
};

const ASSETS: Array<{ url: string; type: string; body: () => string | Promise<string> }> = [
  { url: "/", type: "text/html; charset=utf-8", body: () => PAGE_HTML },
  { url: "/dashboard/app.js", type: "text/javascript; charset=utf-8", body: dashboardScript },
  { url: "/dashboard/app.css", type: "text/css; charset=utf-8", body: () => APP_CSS },
];

/** The dashboard's files hold no data, so they are served without a token (see the open set in app.ts). */
export const DASHBOARD_PATHS = ASSETS.map((a) => a.url);

export function registerDashboard(app: FastifyInstance): void {
  for (const asset of ASSETS) {
    app.get(asset.url, async (_request, reply) => {
      const body = await asset.body(); // before the headers: a failure answers as any API error does
      return reply.headers({ ...HEADERS, "content-type": asset.type }).send(body);
    });
  }
}
