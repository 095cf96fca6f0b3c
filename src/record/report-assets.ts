/**
 * The run report's inline stylesheet and script (the page loads nothing from the network).
 * @module
 */
import { formatMs } from "../internal/time.js";
import { barDetail } from "./report-timeline.js";

/** The report page's CSS. */
export const reportStyle = `
:root{--ok:#2e9d57;--fail:#d64545;--timeout:#e08a1e;--cancel:#8a8a8a;--run:#3b82f6;--hit:#8b5cf6}
body{font:14px/1.45 system-ui,sans-serif;margin:1.5rem;color:#1f2328}
h1{font-size:1.3rem;margin:0 0 .3rem}h2{font-size:1.1rem;border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:1.6rem}
code{font-size:.85em;background:#f3f4f6;padding:0 .25em;border-radius:3px}
.summary{color:#555;margin:0}
.lanes{display:flex;flex-direction:column;gap:3px}
.lane{display:flex;align-items:flex-start}
.lane-name{width:11rem;flex:none;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;font-size:.85em;color:#444;padding-right:.5rem}
.track{position:relative;flex:1;min-height:18px;background:#f6f8fa;border-radius:3px}
.axis .track{background:none;height:16px;font-size:.75em;color:#777}
.axis .track span{position:absolute;transform:translateX(-50%)}
.axis .track span:first-child{transform:none}.axis .track span:last-child{transform:translateX(-100%)}
.track .bar{position:absolute;border-radius:2px;box-shadow:inset -1px 0 0 #fff;font-size:10px;color:#fff;overflow:hidden;line-height:16px;text-indent:2px;box-sizing:border-box;min-width:2px}
.bar.succeeded{background:var(--ok)}.bar.failed{background:var(--fail)}.bar.timeout{background:var(--timeout)}
.bar.cancelled{background:var(--cancel)}.bar.running{background:var(--run)}
.bar.retry{border:2px dashed #fff8}
.bar .wait,.bar.waiting{background:repeating-linear-gradient(135deg,#c9ced6 0 3px,#eef0f3 3px 6px)}
.bar .wait{position:absolute;left:0;top:0;bottom:0}
.legend .bar.waiting{color:#333}
.scroller{overflow-x:auto}
.lane-name{position:sticky;left:0;background:#fff;z-index:1}
.zoom{font-size:.8em;margin-bottom:.3rem}.zoom button{margin-right:.2rem;min-width:1.8rem}
.hit{position:absolute;width:10px;max-height:10px;margin-left:-5px;background:var(--hit);transform:rotate(45deg) scale(.8)}
.legend{display:flex;gap:.6rem;align-items:center;font-size:.8em;margin:.3rem 0 .6rem}
.legend .bar{position:static;display:inline-block;padding:0 .4rem;border-radius:2px;color:#fff}
.legend .legend-hit{position:relative;top:0;display:inline-block;height:10px;margin:0 .2rem}
.tree,.tree ul{list-style:none;padding-left:1.1rem}.tree{padding-left:0}
summary{cursor:pointer}
.mark.succeeded{color:var(--ok)}.mark.failed{color:var(--fail)}.mark.running{color:var(--run)}.mark.cancelled{color:var(--cancel)}
.facts{color:#666;font-size:.9em}
details.io{margin:0 0 .2rem 1.4rem;font-size:.85em;color:#444}details.io table{border-collapse:collapse}
details.io th{text-align:left;font-weight:500;padding:0 .6rem 0 0;vertical-align:top}details.io code{white-space:pre-wrap;word-break:break-all}
.error{margin:.5rem 0;list-style:none}.error .where{font-weight:600}
#errors ul{padding-left:0}
pre{background:#f6f8fa;padding:.5rem;overflow:auto;font-size:12px;max-height:24rem}
.stderr{color:#b42318}
.cause{margin-left:1rem}
.run-error{border-left:3px solid var(--fail);padding-left:.6rem;margin-top:.5rem}
.task-report{margin:1rem 0}
.tab-button{border:1px solid #ccc;background:#fafafa;padding:.2rem .7rem;cursor:pointer}
.tab-button.active{background:#fff;border-bottom-color:#fff;font-weight:600}
.tab-frame{display:none;width:100%;height:320px;border:1px solid #ccc}
.tab-frame.active{display:block}
`;

/**
 * The report page's script: draws the timeline from its JSON, switches task report tabs. A bar's
 * tooltip is written by the page with the engine's own {@link barDetail} and `formatMs` (both use
 * nothing but their arguments), whose source the script carries: the page's JSON holds numbers,
 * not a sentence per bar.
 */
export const reportScript = `
${formatMs.toString()}
${barDetail.toString()}
(() => {
  const data = JSON.parse(document.getElementById("timeline-data").textContent);
  const ms = (x) => x < 1000 ? Math.round(x) + "ms" : (x / 1000).toFixed(1) + "s";
  const pct = (x) => (100 * x / data.spanMs).toFixed(3) + "%";
  const tracks = data.lanes.map((lane) => {
    const row = document.createElement("div");
    row.className = "lane";
    const name = document.createElement("div");
    name.className = "lane-name";
    name.textContent = name.title = lane.name;
    const track = document.createElement("div");
    track.className = "track";
    track.style.height = lane.rows * lane.rowPx + 2 + "px";
    row.append(name, track);
    document.getElementById("lanes").append(row);
    return track;
  });
  const lanesBox = document.querySelector("#timeline .lanes");
  let zoom = 1;
  const setZoom = (z) => {
    zoom = Math.min(4096, Math.max(1, z));
    lanesBox.style.width = zoom * 100 + "%";
    document.querySelector("#timeline .zoom-level").textContent = zoom + "×";
  };
  for (const button of document.querySelectorAll("#timeline [data-zoom]")) {
    button.addEventListener("click", () => {
      const f = Number(button.dataset.zoom);
      setZoom(f === 0 ? 1 : zoom * f);
    });
  }
  document.querySelector("#timeline .scroller").addEventListener("wheel", (event) => {
    if (!event.ctrlKey) return;
    event.preventDefault();
    setZoom(zoom * (event.deltaY < 0 ? 2 : 0.5));
  }, { passive: false });
  for (const bar of data.bars) {
    const [lane, rowIndex, start, duration, kind, attempt, action, taskIndex, wait] = bar;
    const task = data.tasks[taskIndex];
    const { rowPx } = data.lanes[lane];
    const el = document.createElement("span");
    el.dataset.action = action;
    el.style.left = pct(start);
    el.style.top = rowIndex * rowPx + 1 + "px";
    el.style.height = Math.max(1, rowPx - 2) + "px";
    if (kind === "hit") {
      el.className = "hit";
      el.title = task + " (" + action + "): cache hit";
    } else {
      el.className = "bar " + kind + (attempt > 0 ? " retry" : "");
      el.dataset.attempt = attempt;
      el.style.width = "max(2px, " + pct(duration) + ")";
      el.title = task + " (" + action + ") attempt " + attempt + ": " + kind + "\\n" + barDetail(data, bar, formatMs);
      if (attempt > 0) el.textContent = "#" + attempt;
      if (wait > 0) {
        const w = document.createElement("span");
        w.className = "wait";
        w.style.width = duration > 0 ? (100 * wait / duration).toFixed(3) + "%" : "100%";
        el.prepend(w);
      }
    }
    tracks[lane].append(el);
  }
})();
for (const report of document.querySelectorAll(".task-report")) {
  report.addEventListener("click", (event) => {
    const button = event.target.closest(".tab-button");
    if (!button) return;
    for (const el of report.querySelectorAll(".tab-button, .tab-frame")) {
      el.classList.toggle("active", el.dataset.tab === button.dataset.tab);
    }
  });
}
`;
