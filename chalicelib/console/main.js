// The console's entry point: configuration, sign-in, navigation by #hash.
import { Api, scopedApi } from "./api.js";
import { Auth, CUSTOMER, STAFF } from "./auth.js";
import { announce, h, pageChanged, replace } from "./dom.js";
import { Live } from "./live.js";
import * as applicant from "./applicant.js";
import * as operator from "./operator.js";
import * as reviewer from "./reviewer.js";
import * as screening from "./screening.js";
import * as signin from "./signin.js";

const PAGES = [
  // Staff sign in to a pool of their own: they have no applications (the API refuses their token there).
  { id: "applicant", label: "My applications", module: applicant, allowed: (auth) => auth.user.pool !== STAFF },
  { id: "review", label: "Review queue", module: reviewer, allowed: (auth) => auth.hasGroup("reviewers") },
  // Approved customers a changed sanctions list entry may name (issue 20; console/screening.js).
  { id: "screening", label: "Customer screening", module: screening, allowed: (auth) => auth.hasGroup("reviewers") },
  { id: "operator", label: "Operations", module: operator, allowed: (auth) => auth.hasGroup("operators") },
];

async function loadConfig() {
  const response = await fetch(new URL("config.json", import.meta.url), { cache: "no-store", credentials: "omit" });
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
  return response.json();
}

function parseRoute() {
  const [page = "", ...rest] = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  return { page, rest };
}

class Console {
  constructor(config) {
    this.config = config;
    this.auth = new Auth(config.cognito);
    this.api = new Api(new URL("../", import.meta.url), this.auth);
    this.live = new Live(config.websocket_url, this.auth);
    this.view = document.getElementById("view");
    this.nav = document.getElementById("nav");
    this.who = document.getElementById("who");
    this.run = null; // the page view being shown (or loading): see RouteRun
    this.auth.onChange(() => this.onAuthChange());
    this.live.onState((state) => {
      const el = document.getElementById("live-state");
      el.textContent = state === "live" ? "live" : state;
      el.className = `live live-${state}`;
    });
    window.addEventListener("hashchange", () => this.route());
  }

  onAuthChange() {
    // Not before start(): the return from managed login signs in while the page loads, and start() then
    // draws it once (drawn here too, the page rendered twice at once: a reason typed into the first was lost).
    if (!this.started) return;
    if (this.auth.signedIn === this.wasSignedIn) return; // a token refresh: nothing to redraw
    this.wasSignedIn = this.auth.signedIn;
    this.renderChrome();
    if (this.auth.signedIn) {
      this.live.start();
    } else {
      this.live.stop();
    }
    this.route();
  }

  start() {
    this.started = true;
    this.wasSignedIn = this.auth.signedIn;
    this.renderChrome();
    if (this.auth.signedIn) this.live.start();
    this.route();
  }

  renderChrome() {
    const signedIn = this.auth.signedIn;
    const route = parseRoute().page;
    replace(this.nav, signedIn ? h("ul", {}, PAGES.filter((p) => p.allowed(this.auth)).map((p) =>
      h("li", {}, h("a", { href: `#/${p.id}`, "aria-current": route === p.id ? "page" : null }, p.label)))) : null);
    document.getElementById("live-state").hidden = !signedIn; // "offline" means nothing before signing in
    replace(this.who, signedIn
      ? [h("span", { class: "who-email" }, this.auth.user.email), " ",
        h("button", { type: "button", class: "secondary", id: "sign-out", onclick: () => this.signOut() }, "Sign out")]
      : null);
  }

  signOut() {
    history.replaceState(null, "", "#/");
    this.auth.signOut(); // routes to the sign-in form
    announce("Signed out.");
  }

  defaultPage() {
    if (this.auth.hasGroup("reviewers")) return "review";
    if (this.auth.hasGroup("operators")) return "operator";
    return this.auth.user.pool === STAFF ? "review" : "applicant"; // staff in no group: the API says no
  }

  /** Show the page the address names. Each call is a run of its own (RouteRun): it first cancels the run
   * before it, loaded or still loading -- its cleanup, live handlers and subscriptions go, and whatever its
   * page still had on the way is dropped -- so two quick page changes never leave the first one listening. */
  async route() {
    if (this.run) this.run.cancel();
    const run = new RouteRun(this.api, this.live);
    this.run = run;
    pageChanged(); // what the last page announced is not about this one
    const { page, rest } = parseRoute();
    this.renderChrome();
    const ctx = { api: run.api, auth: this.auth, live: run.live, config: this.config, view: this.view, signal: run.signal };
    if (!this.auth.signedIn) {
      // The address stays what was asked for: after signing in, that page opens.
      run.adopt(signin.render(ctx, () => {}));
      return;
    }
    const target = PAGES.find((p) => p.id === page);
    if (!target) {
      location.hash = `#/${this.defaultPage()}`;
      return;
    }
    document.title = `${target.label} · Account opening`;
    try {
      run.adopt(await target.module.render(ctx, rest));
    } catch (error) {
      if (!run.cancelled) showError(this.view, error, this.auth);
    }
    if (!run.cancelled) focusHeading(this.view);
  }
}

/** One page view, from route() until the next route() cancels it: its cancellation signal, its share of the
 * live connection (LiveScope), its API calls (scopedApi: nothing sent or answered once cancelled) and the
 * cleanup its page returned. A page that finishes loading after it was left has its cleanup run at once. */
class RouteRun {
  constructor(api, live) {
    this.controller = new AbortController();
    this.signal = this.controller.signal;
    this.api = scopedApi(api, this.signal);
    this.live = live.scope();
    this.cleanups = [];
  }

  get cancelled() {
    return this.signal.aborted;
  }

  adopt(cleanup) {
    if (typeof cleanup !== "function") return;
    if (this.cancelled) cleanup();
    else this.cleanups.push(cleanup);
  }

  cancel() {
    if (this.cancelled) return;
    this.controller.abort();
    this.live.close();
    for (const cleanup of this.cleanups.splice(0)) {
      try {
        cleanup();
      } catch (error) {
        console.error("a page's cleanup failed", error); // the next page opens all the same
      }
    }
  }
}

/** A page change moves focus to the new page's heading, so a screen reader starts there (WCAG 2.4.3).
 * Called once the page has finished loading (a reviewer's page waits for the document): whoever already
 * started working on it -- typing a reason while the document loads -- keeps their place and every key. */
export function focusHeading(view) {
  const heading = view.querySelector("h1");
  if (!heading) return;
  const active = document.activeElement;
  if (active && active !== document.body && view.contains(active)) return;
  if (!heading.hasAttribute("tabindex")) heading.setAttribute("tabindex", "-1");
  heading.focus();
}

// Pages are not hidden behind a client-side check: the API decides, and its
// 403 is what the person sees.
export function showError(view, error, auth = null) {
  if (error.status === 403 && error.code === "wrong_user_pool" && auth && auth.signedIn) {
    showWrongPool(view, auth);
    return;
  }
  if (error.status === 403) {
    replace(view, h("section", { class: "panel", "aria-labelledby": "refused-title" },
      h("h1", { id: "refused-title" }, "Not allowed"),
      h("p", { class: "refused" }, `The API refused: ${error.message}`)));
    announce("You are not allowed to see that page.", "error");
    return;
  }
  replace(view, h("section", { class: "panel" }, h("h1", {}, "Something went wrong"),
    h("p", { class: "error" }, error.message || String(error))));
  announce(error.message || String(error), "error");
}

/**
 * Signed in, but to the other kind of account than the page is for (an applicant on the review queue, staff
 * on "My applications"): say so in words, and where each goes -- the API refused, the page explains.
 */
function showWrongPool(view, auth) {
  const { email, pool } = auth.user;
  const signOut = h("button", { type: "button", class: "link", id: "wrong-pool-sign-out",
    onclick: () => {
      auth.signOut();
      announce("Signed out.");
    } }, "sign out");
  const parts = pool === CUSTOMER
    ? [h("p", {}, `This page is for the bank's staff (reviewers and operators). You are signed in as an applicant, ${email}.`),
      h("p", {}, "Your own applications are under ", h("a", { href: "#/applicant", id: "wrong-pool-home" }, "My applications"),
        ". Staff: ", signOut, ", then choose “staff” and sign in with your organisation's account.")]
    : [h("p", {}, `This page is for applicants. You are signed in as staff, ${email}: staff accounts have no applications.`),
      h("p", {}, auth.hasGroup("operators") && !auth.hasGroup("reviewers")
        ? h("a", { href: "#/operator", id: "wrong-pool-home" }, "Go to Operations")
        : h("a", { href: "#/review", id: "wrong-pool-home" }, "Go to the review queue"),
      ". To apply for an account yourself, ", signOut, " and sign in (or sign up) as an applicant.")];
  replace(view, h("section", { class: "panel", "aria-labelledby": "refused-title", id: "wrong-pool" },
    h("h1", { id: "refused-title" }, "Not for this account"),
    h("div", { class: "wrong-pool" }, parts)));
  announce("This page is not for the account you are signed in with.", "error");
}

loadConfig().then(
  async (config) => {
    const app = new Console(config);
    // Back from managed login (staff, or an applicant's Google/Apple sign-in)? Finish signing in first.
    await app.auth.completeRedirectSignIn().catch((error) => {
      app.auth.redirectError = error;
    });
    app.start();
  },
  (error) => showError(document.getElementById("view"), error),
);
