/**
 * The dashboard's one page. It holds no data: everything it shows comes from the JSON API with the
 * token the script keeps in sessionStorage, so the page and its assets are served without a token.
 */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Lifeboat</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/dashboard/app.css">
<script src="/dashboard/app.js" defer></script>
</head>
<body>
<header>
  <h1>Lifeboat</h1>
  <div id="vault" class="muted"></div>
  <div class="spacer"></div>
  <div id="refresh" class="muted" role="status"></div>
  <button id="forget" type="button" hidden>Forget token</button>
</header>

<form id="login" hidden>
  <h2>Sign in</h2>
  <p>Paste an admin token. <code>lifeboat serve</code> writes one to <code>&lt;vault&gt;/admin.token</code>;
  <code>lifeboat token create NAME</code> issues more.</p>
  <label>Admin token <input name="token" type="password" autocomplete="off" required></label>
  <button type="submit">Open dashboard</button>
  <p id="login-error" class="error" role="alert"></p>
</form>

<main id="content" hidden>
  <section id="key" aria-label="Registration key"></section>
  <section>
    <h2>Protected items</h2>
    <div id="items"></div>
  </section>
  <section>
    <div class="section-head">
      <h2>RPO and recovery points</h2>
      <label>Window
        <select id="hours">
          <option value="1">1 hour</option>
          <option value="6">6 hours</option>
          <option value="24" selected>24 hours</option>
          <option value="72">72 hours</option>
        </select>
      </label>
    </div>
    <div id="charts"></div>
  </section>
  <section>
    <h2>Recent jobs</h2>
    <div id="jobs"></div>
  </section>
</main>
</body>
</html>
`;
