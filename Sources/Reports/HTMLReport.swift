import Diagnosis
import TraceModel

/// One self-contained HTML page: inline CSS and JS, no external assets (a CSP forbids any fetch). The static
/// part (summary, capability-mode entry with descriptors, sites with collapsible stacks) is plain HTML; the
/// timeline of violations per process is drawn as inline SVG by the page's script from an embedded JSON island.
enum HTMLReport {
    static func render(_ m: ReportModel) -> String {
        var h = ""
        let title = m.header.map { "captrace report: " + $0.argv.joined(separator: " ") } ?? "captrace report"
        h += """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(esc(title))</title>
            <style>\(css)</style>
            </head>
            <body>

            """
        h += "<header><h1>captrace report</h1>"
        if let hd = m.header {
            h += "<p class=\"argv\"><code>\(esc(hd.argv.map(shellWord).joined(separator: " ")))</code></p>"
            // A Landlock ruleset given with --policy has no trigger: the kernel enforces it from exec.
            let trigger = m.landlockPolicyRun ? "" : "trigger <b>\(esc(hd.trigger))</b> · "
            h += "<p class=\"meta\">\(trigger)mode <b>\(esc(hd.mode.rawValue))</b> · backend <b>\(esc(hd.backend.rawValue))</b> · \(esc(hd.arch)) · started \(esc(hd.started))</p>"
            if hd.backend == .notify, hd.landlockABI != nil {
                h += "<p class=\"note\">\(landlockNotifyNote)</p>"  // our text: nothing to escape
            }
        }
        h += "</header>\n"
        for w in m.warnings { h += "<p class=\"warning\" role=\"alert\">warning: \(esc(w))</p>\n" }

        // Summary
        h += "<section id=\"summary\"><h2>Summary</h2>\n"
        if m.landlockPolicyRun {
            h += "<p><span id=\"total-landlock-refusals\">\(m.landlock.refusals.count)</span> Landlock \(m.landlock.refusals.count == 1 ? "refusal" : "refusals")"
        } else if m.neverEntered {
            h += "<p id=\"never-entered\">Nothing judged: \(esc(neverEnteredNote(m.header?.trigger, policy: m.header?.policy != nil)))"
        } else {
            h += "<p><span id=\"total-violations\">\(m.violations.count)</span> \(m.violations.count == 1 ? "violation" : "violations") at <span id=\"total-sites\">\(m.sites.count)</span> \(m.sites.count == 1 ? "site" : "sites")"
            if !m.violations.isEmpty { h += " in \(plural(m.violatingPids.count, "process", "processes"))" }
        }
        if let s = m.summary { h += "; exit status \(s.exitStatus) after \(s.durationMs) ms" + (s.interrupted == true ? " (interrupted)" : "") }
        h += "</p>\n"
        if !m.namespaceTotals.isEmpty {
            h += "<table class=\"totals\"><thead><tr><th>namespace</th><th>violations</th><th>sites</th></tr></thead><tbody>\n"
            for (ns, v, s) in m.namespaceTotals {
                h += "<tr><td><span class=\"ns ns-\(ns.rawValue)\">\(ns.rawValue)</span></td><td>\(v)</td><td>\(s)</td></tr>\n"
            }
            h += "</tbody></table>\n"
        }
        if !m.hintTotals.isEmpty, m.header?.policy == nil {
            h += "<p>hints: " + m.hintTotals.map { "<code>\(esc($0.0 ?? "none"))</code> \($0.1)" }.joined(separator: ", ") + "</p>\n"
        }
        h += "</section>\n"

        // Timeline (drawn by the script)
        h += "<section id=\"timeline-section\"><h2>Timeline</h2><p class=\"note\" id=\"timeline-note\">The timeline is drawn by the page's script.</p><div id=\"timeline\"></div></section>\n"

        // Landlock, and the program's own seccomp filters: as the text report words them.
        let text = TextReport(model: m, color: false)
        if !m.landlock.isEmpty {
            let lines = m.landlock.textLines { text.stackLines($0, indent: "    ") }
            h += "<section id=\"landlock\"><h2>Landlock</h2>\n<pre class=\"landlock\">\(esc(lines.joined(separator: "\n")))</pre></section>\n"
        }

        // Capability mode
        h += "<section id=\"enter\"><h2>\(m.header?.policy.map { "Policy (\(esc($0.kind)))" } ?? "Capability mode")</h2>\n"
        if m.landlockPolicyRun {
            h += "<p>The kernel enforces the ruleset from exec: what it refused is under Landlock above.</p>\n"
        } else if m.enters.isEmpty { h += "<p>Never entered: the trigger was not reached.</p>\n" }
        for e in m.enters {
            if let parent = e.inheritedFrom {
                h += "<p class=\"enter\">pid \(e.pid) entered by inheritance from pid \(parent) at \(esc(m.relative(e.tNs)))</p>\n"
                continue
            }
            h += "<div class=\"enter\"><p>pid \(e.pid) tid \(e.tid) entered at <code>\(esc(e.trigger))</code>, \(esc(m.relative(e.tNs)))</p>\n"
            if !e.stack.isEmpty {
                h += "<details><summary>stack at entry (\(plural(e.stack.count, "frame")))</summary>\n" + stackTable(e.stack, mark: nil) + "</details>\n"
            }
            if !e.fds.isEmpty {
                h += "<table class=\"fds\"><caption>descriptors held at entry</caption><thead><tr><th>fd</th><th>kind</th><th>flags</th><th>path</th></tr></thead><tbody>\n"
                for d in e.fds.prefix(ListLimit.fds) {
                    h += "<tr><td>\(d.fd)</td><td>\(esc(d.kind.rawValue))</td><td><code>\(esc(d.flags))</code></td><td><code>\(esc(d.path))</code></td></tr>\n"
                }
                if e.fds.count > ListLimit.fds { h += "<tr><td colspan=\"4\">… and \(e.fds.count - ListLimit.fds) more descriptors</td></tr>\n" }
                h += "</tbody></table>\n"
            }
            h += "</div>\n"
        }
        h += "</section>\n"

        // Sites
        h += "<section id=\"sites\"><h2>Sites</h2>\n"
        for (i, s) in m.sites.enumerated() { h += site(s, index: i + 1, total: m.sites.count) }
        if m.sites.isEmpty { h += "<p>No violations.</p>\n" }
        h += "</section>\n"
        let own = text.seccompSections().drop { $0.isEmpty }
        if !own.isEmpty {
            h += "<section id=\"own-filters\"><h2>Seccomp filters the program installed</h2>\n<pre class=\"own-filters\">\(esc(own.joined(separator: "\n")))</pre></section>\n"
        }

        h += "<script type=\"application/json\" id=\"captrace-data\">\(scriptSafe(data(m).serialized()))</script>\n"
        let js = script(entry: m.header?.policy == nil ? "entry into capability mode" : "entry into the policy")
        h += "<script>\(js)</script>\n</body>\n</html>\n"
        return h
    }

    static func site(_ s: SiteGroup, index: Int, total: Int) -> String {
        let v = s.first
        var h = "<article class=\"site action-\(s.worstAction.rawValue)\" id=\"site-\(index)\" data-count=\"\(s.count)\" data-site=\"\(esc(s.id))\">\n"
        h += "<h3>site \(index)/\(total) · \(plural(s.count, "violation")) · pid \(cappedList(s.pids.map(String.init), limit: ListLimit.pids, separator: ",")) · <span class=\"ns ns-\(v.namespace.rawValue)\">\(v.namespace.rawValue)/\(v.rule.rawValue)</span> · \(s.actions.map { esc($0.rawValue) }.joined(separator: ","))</h3>\n"
        h += "<pre class=\"call\">\(esc(renderCall(v) + " = " + outcome(v)))</pre>\n"
        for d in ReportModel.verdicts(s) { h += "<p class=\"verdict\">refused by \(esc(d.sourceText)): <code>\(esc(d.actionText))</code></p>\n" }
        for (label, list, unit) in [("path", s.paths, "paths"), ("address", s.addresses, "addresses")] where !list.isEmpty {
            let c = capped(list, limit: ListLimit.targets, unit: unit)
            h += "<p>\(label) " + c.shown.map { "<code>\(esc($0))</code>" }.joined(separator: " ") + (c.rest.map { " " + $0 } ?? "") + "</p>\n"
        }
        let outcomes = s.outcomes
        if outcomes.count > 1 { h += "<p>results " + esc(outcomes.map { "\($0.0) ×\($0.1)" }.joined(separator: ", ")) + "</p>\n" }
        if s.count > 1 { h += "<p>seq \(esc(compactSeqs(s.events.map(\.seq), maxRuns: ListLimit.seqRuns)))</p>\n" }
        if let c = s.culprit.line { h += "<p class=\"culprit\">culprit: \(codeSpans(c))</p>\n" }
        if let hint = s.hint {
            h += "<div class=\"hint\" data-hint=\"\(esc(hint.id))\"><p><b>hint <code>\(esc(hint.id))</code></b>: \(esc(hint.title))\(s.hintInferred ? " <i>(" + esc(inferredNote) + ")</i>" : "")</p><p>\(esc(hint.explanation))</p><p><b>fix</b>: \(esc(hint.fix))</p>"
            if !hint.references.isEmpty { h += "<p class=\"refs\">see " + hint.references.map(esc).joined(separator: ", ") + "</p>" }
            h += "</div>\n"
        }
        if !v.stack.isEmpty {
            h += "<details><summary>stack (\(plural(v.stack.count, "frame")))</summary>\n" + stackTable(v.stack, mark: s.culprit.programFrameIndex) + "</details>\n"
        }
        return h + "</article>\n"
    }

    static func stackTable(_ stack: [Frame], mark: Int?) -> String {
        var h = "<table class=\"stack\"><tbody>\n"
        for (i, f) in stack.enumerated() {
            h += "<tr\(i == mark ? " class=\"program\"" : "")><td>#\(i)</td><td><code>\(esc(moduleOffset(f)))</code></td><td><code>\(esc(symbolWithOffset(f) ?? "?"))</code></td><td>\(esc(fileLine(f) ?? ""))</td></tr>\n"
        }
        return h + "</tbody></table>\n"
    }

    /// The data the script draws from: processes and violations with times relative to the trace's start (µs),
    /// and the span of the timeline's axis (entry to the end of the run).
    static func data(_ m: ReportModel) -> JSONValue {
        var siteIndex: [Int: Int] = [:]  // seq -> the number of its site (a stack with two rules is two sites)
        for (i, s) in m.sites.enumerated() { for v in s.events { siteIndex[v.seq] = i + 1 } }
        let pids = m.violatingPids
        let span = m.timelineSpan
        return .object([
            ("from_us", .int(Int64(span.from / 1000))), ("to_us", .int(Int64(span.to / 1000))),
            ("processes", .array(pids.map { pid in
                let prog = m.processes.first { $0.pid == pid }?.program
                return .object([("pid", .int(Int64(pid))), ("program", prog.map { .string(PathText.basename($0)) } ?? .null)])
            })),
            ("violations", .array(m.violations.map { v in
                .object([
                    ("seq", .int(Int64(v.seq))), ("pid", .int(Int64(v.pid))),
                    ("us", .int(Int64((v.tNs >= m.t0 ? v.tNs - m.t0 : 0) / 1000))),
                    ("ns", .string(v.namespace.rawValue)), ("syscall", .string(v.syscall)),
                    ("what", .string(v.path ?? v.address ?? "")), ("site", .int(Int64(siteIndex[v.seq] ?? 0))),
                    ("action", .string(v.action.rawValue)),
                ])
            })),
        ])
    }

    /// Escapes the text and shows its `backquoted` parts as <code>.
    static func codeSpans(_ s: String) -> String {
        s.split(separator: "`", omittingEmptySubsequences: false).enumerated().map { i, part in
            i % 2 == 1 ? "<code>" + esc(String(part)) + "</code>" : esc(String(part))
        }.joined()
    }

    /// HTML text and attribute escaping.
    static func esc(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    /// JSON made safe inside <script>: `<` only occurs inside JSON strings, where `\u003c` means the same.
    static func scriptSafe(_ json: String) -> String { json.replacingAllOccurrences("<", "\\u003c") }

    static let css = """
        body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:70rem;padding:1rem 1.5rem;color:#1b1b1b;overflow-wrap:anywhere}
        h1{font-size:1.5rem;margin:.2rem 0}h2{font-size:1.2rem;border-bottom:1px solid #ccc;margin-top:1.6rem}
        h3{font-size:1rem;margin:.3rem 0}code,pre{font:12.5px/1.4 ui-monospace,monospace}
        pre.call{background:#f4f4f4;padding:.4rem .6rem;overflow-x:auto;white-space:pre-wrap}
        .meta,.note{color:#555}.warning{background:#fff3cd;border:1px solid #e0c060;padding:.5rem}
        table{border-collapse:collapse;margin:.4rem 0}td,th{padding:.1rem .6rem;text-align:left;vertical-align:top}
        thead th{border-bottom:1px solid #bbb}table.stack td:first-child{color:#777}
        tr.program{background:#e8f2ff;font-weight:600}
        .site{border:1px solid #ddd;border-left:4px solid #d9a300;padding:.3rem .8rem;margin:.8rem 0}
        .site.action-denied{border-left-color:#c62828}.site.action-allowed-by-baseline{border-left-color:#2e7d32}
        .hint{background:#eef7f6;padding:.2rem .7rem;margin:.4rem 0}.hint p{margin:.3rem 0}.refs{color:#555}
        .culprit{font-weight:600}.ns{padding:0 .3rem;border-radius:3px;color:#fff}
        .ns-filesystem{background:#1565c0}.ns-network{background:#6a1b9a}.ns-process{background:#c62828}
        .ns-ipc{background:#ef6c00}.ns-system{background:#455a64}.ns-bypass{background:#000}
        svg text{font:11px ui-monospace,monospace;fill:#333}svg .axis{stroke:#999}#timeline svg{max-width:100%;height:auto}
        #timeline-zoom button{font:inherit;margin-right:.4rem}
        svg circle.filesystem{fill:#1565c0}svg circle.network{fill:#6a1b9a}svg circle.process{fill:#c62828}
        svg circle.ipc{fill:#ef6c00}svg circle.system{fill:#455a64}svg circle.bypass{fill:#000}
        svg circle.denied{stroke:#c62828;stroke-width:2}
        """

    /// Draws the timeline: one row per process, one dot per violation at its time, linked to its site. The axis
    /// runs from entry into capability mode to the end of the run; a button zooms to the violations' own span
    /// (first to last), so events close together can be told apart.
    /// `entry`: what the axis starts at ("entry into capability mode", or into the policy).
    static func script(entry: String) -> String {
        """
            (function () {
              "use strict";
              var data = JSON.parse(document.getElementById("captrace-data").textContent);
              var NS = "http://www.w3.org/2000/svg";
              var box = document.getElementById("timeline");
              var note = document.getElementById("timeline-note");
              var vs = data.violations, ps = data.processes;
              if (vs.length === 0) { note.textContent = "No violations to draw."; return; }
              var firstUs = vs[0].us, lastUs = vs[0].us;
              vs.forEach(function (v) { if (v.us < firstUs) firstUs = v.us; if (v.us > lastUs) lastUs = v.us; });
              var run = { from: Math.min(data.from_us, firstUs), to: Math.max(data.to_us, lastUs) };
              var left = 150, width = 760, rowH = 28, top = 10;
              function el(name, attrs, text) {
                var e = document.createElementNS(NS, name);
                for (var k in attrs) e.setAttribute(k, String(attrs[k]));
                if (text !== undefined) e.textContent = text;
                return e;
              }
              function secs(us) { return (us / 1e6).toFixed(us < 1e4 ? 6 : 3) + "s"; }
              function draw(from, to) {
                var old = document.getElementById("timeline-svg");
                if (old) old.parentNode.removeChild(old);
                var svg = document.createElementNS(NS, "svg");
                svg.setAttribute("id", "timeline-svg");
                svg.setAttribute("width", String(left + width + 20));
                svg.setAttribute("height", String(top + rowH * ps.length + 24));
                svg.setAttribute("viewBox", "0 0 " + (left + width + 20) + " " + (top + rowH * ps.length + 24));
                svg.setAttribute("role", "img");
                svg.setAttribute("data-from-us", from);
                svg.setAttribute("data-to-us", to);
                var row = {};
                ps.forEach(function (p, i) {
                  var y = top + rowH * i + rowH / 2;
                  row[p.pid] = y;
                  svg.appendChild(el("text", { x: 4, y: y + 4 }, "pid " + p.pid + (p.program ? " " + p.program : "")));
                  svg.appendChild(el("line", { "class": "axis", x1: left, x2: left + width, y1: y, y2: y }));
                });
                var span = to - from;
                vs.forEach(function (v) {
                  var x = left + (span > 0 ? (v.us - from) / span : 0.5) * width;
                  var a = el("a", { href: "#site-" + v.site });
                  var c = el("circle", { cx: x.toFixed(1), cy: row[v.pid], r: 5, "class": v.ns + " " + v.action, "data-seq": v.seq });
                  c.appendChild(el("title", {}, "#" + v.seq + " +" + (v.us / 1e6).toFixed(6) + "s pid " + v.pid + " " + v.syscall + " " + v.what));
                  a.appendChild(c);
                  svg.appendChild(a);
                });
                var axisY = top + rowH * ps.length + 16;
                svg.appendChild(el("text", { x: left, y: axisY }, "+" + secs(from)));
                svg.appendChild(el("text", { x: left + width - 90, y: axisY }, "+" + secs(to)));
                box.appendChild(svg);
              }
              var zoom = document.createElement("p");
              zoom.id = "timeline-zoom";
              [["entry to end of run", run.from, run.to], ["first to last violation", firstUs, lastUs]].forEach(function (z) {
                var b = document.createElement("button");
                b.type = "button";
                b.textContent = z[0];
                b.addEventListener("click", function () { draw(z[1], z[2]); });
                zoom.appendChild(b);
              });
              box.appendChild(zoom);
              draw(run.from, run.to);
              note.textContent = vs.length + (vs.length === 1 ? " violation" : " violations") + " in " + ps.length + (ps.length === 1 ? " process" : " processes") + " drawn, from \(entry) (+" + secs(run.from) + ") to the end of the run (+" + secs(run.to) + ")";
            })();
            """
    }
}
