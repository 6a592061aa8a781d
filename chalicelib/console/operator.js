// The operator's page: where every application stands (the state diagram
// generated from the transition table, with counts and oldest ages), the
// dead-letter queues and their redrive, the scheduled jobs' last runs.
import { ageMs, announce, formatAge, h, replace, time } from "./dom.js";
import { stateDiagram } from "./diagram.js";

const REFRESH_MS = 5000;

export async function render(ctx) {
  const diagram = h("div", { id: "workflow" }, h("p", {}, "Loading…"));
  const counts = h("div", { id: "state-counts" });
  const queues = h("div", { id: "queues" });
  const jobs = h("div", { id: "jobs" });
  const stamp = h("p", { class: "hint", id: "operator-updated" });
  replace(ctx.view,
    h("section", { class: "panel", "aria-labelledby": "ops-title" },
      h("h1", { id: "ops-title" }, "Operations"), stamp, diagram,
      h("h2", { class: "small-heading" }, "States as a table"), counts),
    // One above the other: the jobs' summaries need the page's width (side by side they were cut off at 1366 px).
    h("section", { class: "panel", "aria-labelledby": "queues-title" }, h("h2", { id: "queues-title" }, "Queues and dead letters"), queues),
    h("section", { class: "panel", "aria-labelledby": "jobs-title" }, h("h2", { id: "jobs-title" }, "Scheduled jobs"), jobs));

  let busy = false;
  const load = async () => {
    if (busy) return;
    busy = true;
    try {
      const [workflow, queueData, jobData] = await Promise.all([
        ctx.api.get("operations/workflow"), ctx.api.get("operations/queues"), ctx.api.get("operations/jobs")]);
      replace(diagram, stateDiagram(workflow));
      replace(counts, countsTable(workflow));
      replace(queues, queuesView(ctx, queueData, load));
      replace(jobs, jobsView(jobData));
      replace(stamp, "Updated ", time(workflow.as_of), `; refreshes every ${REFRESH_MS / 1000} s.`);
    } finally {
      busy = false;
    }
  };
  await load();
  const timer = setInterval(() => load().catch((e) => announce(e.message, "error")), REFRESH_MS);
  return () => clearInterval(timer);
}

function countsTable(workflow) {
  return h("table", { class: "table", id: "state-table" },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "State"), h("th", { scope: "col" }, "Applications"), h("th", { scope: "col" }, "Oldest"))),
    h("tbody", {}, workflow.states.map((st) => h("tr", { dataset: { state: st.state } },
      h("th", { scope: "row" }, st.state), h("td", { class: "count", "data-label": "Applications" }, String(st.count)),
      h("td", { "data-label": "Oldest" }, st.oldest_since ? formatAge(ageMs(st.oldest_since)) : "—")))));
}

function queuesView(ctx, data, reload) {
  return h("table", { class: "table", id: "queue-table" },
    h("thead", {}, h("tr", {}, ["Queue", "Waiting", "In flight", "Dead letters", ""].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, data.queues.map((q) => h("tr", { dataset: { queue: q.name } },
      h("th", { scope: "row" }, q.name), h("td", { "data-label": "Waiting" }, String(q.depth)),
      h("td", { "data-label": "In flight" }, String(q.in_flight)),
      h("td", { class: q.dlq_depth > 0 ? "bad dlq-depth" : "dlq-depth", "data-label": "Dead letters" }, String(q.dlq_depth)),
      h("td", {}, h("button", {
        type: "button", class: "secondary", disabled: q.dlq_depth === 0, id: `redrive-${q.name}`,
        onclick: async (event) => {
          event.target.disabled = true;
          try {
            const result = await ctx.api.post(`operations/queues/${encodeURIComponent(q.name)}/redrive`, {});
            announce(`Moved ${result.moved} message(s) from the dead-letter queue back to ${q.name}.`);
          } catch (e) {
            announce(e.message, "error");
          }
          await reload();
        },
      }, "Redrive"))))));
}

function jobsView(data) {
  return h("table", { class: "table", id: "job-table" },
    h("thead", {}, h("tr", {}, ["Job", "Schedule", "Last run", "Summary"].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, data.jobs.map((job) => {
      const run = job.last_run;
      const failed = run && run.summary && run.summary.failed > 0;
      return h("tr", { dataset: { job: job.name }, class: failed ? "failed" : null },
        h("th", { scope: "row" }, job.name, h("div", { class: "muted" }, job.description || "")),
        h("td", { class: "mono", "data-label": "Schedule" }, job.schedule || ""),
        h("td", { "data-label": "Last run" }, run ? [time(run.finished_at), h("div", { class: "muted" }, `${formatAge(ageMs(run.finished_at))} ago`)] : "never"),
        h("td", { "data-label": "Summary" }, run ? summaryList(run.summary) : "—"));
    })));
}

function summaryList(summary) {
  // "job" repeats the row's name; nested counts read as "name 1, other 2", never as raw JSON.
  const entries = Object.entries(summary || {}).filter(([key]) => key !== "job");
  if (!entries.length) return "—";
  return h("ul", { class: "summary" }, entries.map(([key, value]) => h("li", {},
    h("span", { class: key === "failed" && value > 0 ? "bad" : null }, `${key.replace(/_/g, " ")}: ${inWords(value)}`))));
}

function inWords(value) {
  if (Array.isArray(value)) return value.length ? value.map(inWords).join(", ") : "none";
  if (value && typeof value === "object") {
    const parts = Object.entries(value).map(([k, v]) => `${k.replace(/_/g, " ")} ${inWords(v)}`);
    return parts.length ? parts.join(", ") : "none";
  }
  return String(value);
}
