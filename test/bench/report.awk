# report.awk: the one pass over a raw `make bench` CSV (called by report.sh).
#
#   awk -F, -f report.awk -v rowsfile=R -v csvfile=C -v tablefile=T \
#       -v goalsfile=G -v plotfile=P -v mem_default=.. -v mem_big=.. \
#       -v admit_min_cost=.. -v fill_human=.. RAW.csv
#
# RAW.csv (run.sh): workload,mode,config,round,tps,lat_ms,hit_pct,entries,status
# rowsfile, one line per table row: label|workload|cachealot configuration.
# Writes, from the medians of the runs with status ok:
#   csvfile    the medians and ratios (latest.csv), one line per row and mode
#   tablefile  the same lines as rows of the markdown table
#   plotfile   the same lines for plot.gp: index "label (mode)" ratio ratio
#   goalsfile  the goals of issue 5, one a line, fields separated by \037:
#              text, value (empty: not measured), met/missed, printf format
#              (report.sh formats the value with the shell's printf, as
#              run.sh always did: it rounds ties unlike awk's)
# and prints the number of failed runs (status fail).
#
# Every figure after the medians (table, goals, chart) is taken from the
# text written to the CSV (six significant digits, ratios to three
# decimals), so that the three always agree.

function median(list,    n, a, i, j, t) {
    n = split(list, a, " ")
    if (n == 0) return ""
    for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return (n % 2) ? a[(n + 1) / 2] + 0 : (a[n / 2] + a[n / 2 + 1]) / 2
}
function ratio(a, b) { return (a == "" || b == "" || b + 0 == 0) ? "" : sprintf("%.3f", a / b) }

# Table cells, from the CSV text of a figure ("" when not measured).
function commas(s,    r) { r = ""; while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }; return s r }
function t(x) { return x == "" ? "–" : (x + 0 >= 100 ? commas(sprintf("%.0f", x)) : sprintf("%.1f", x)) }
function ms(x) { return x == "" ? "–" : (x + 0 >= 100 ? sprintf("%.0f", x) : (x + 0 >= 1 ? sprintf("%.2f", x) : sprintf("%.3f", x))) }
function r(x) { return x == "" ? "–" : (x + 0 >= 10 ? sprintf("%.0f×", x) : sprintf("%.2f×", x)) }
function p(x) { return x == "" ? "–" : sprintf("%.1f%%", x) }

# The short label of a row in the chart.
function chart_label(w, label) {
    if (w == "point") return index(label, "prefilled") ? "point, big cache" : (index(label, "min_cost") ? "point, min_cost" : "point, default cache")
    if (w == "miss") return index(label, "min_cost") ? "miss, min_cost" : "miss"
    if (w == "inv") return index(label, "empty") ? "write latency, empty" : "write latency, full"
    if (w == "rm1") return "read-mostly 1%"
    if (w == "rm10") return "read-mostly 10%"
    if (w == "hot30") return "30% hot keys"
    if (w == "upd10") return "update every 10"
    if (w == "write") return "TPC-B"
    return w
}

# Column col (numbered as in the CSV: 4 plain_tps ... 11 cachealot_vs_pgpool)
# of the first line of workload w and mode m whose label starts with pre.
function value(w, m, col, pre,    i) {
    for (i = 1; i <= nout; i++)
        if (ow[i] == w && om[i] == m && (pre == "" || index(olabel[i], pre) == 1)) return oc[i, col]
    return ""
}
function overhead(x) { return x == "" ? "" : sprintf("%.1f", 100 * (1 - x)) }
function goal(text, v, op, g, fmt,    ok) {
    ok = (op == "ge") ? (v + 0 >= g) : (v + 0 <= g)
    printf "%s\037%s\037%s\037%s\n", text, v, (v == "" ? "" : (ok ? "met" : "missed")), fmt > goalsfile
}

BEGIN { header = "workload,mode,config,round,tps,lat_ms,hit_pct,entries,status" }
NR == 1 {
    if ($0 != header) { bad = 1; exit 1 }
    next
}
$9 == "fail" { failed++ }
$9 == "ok" {
    k = $1 SUBSEP $2 SUBSEP $3
    tps[k] = tps[k] " " $5; lat[k] = lat[k] " " $6; n[k]++
    if ($7 != "") hit[k] = hit[k] " " $7
    if (!(($1, $2) in seen)) { seen[$1, $2] = 1; modes[$1] = modes[$1] " " $2 }
}
END {
    if (bad || NR == 0) { print "report.awk: not a raw bench CSV (first line: " header ")" > "/dev/stderr"; exit 1 }

    # Medians per (workload, mode, config); one line per table row and mode.
    print "row,workload,mode,plain_tps,plain_lat_ms,cachealot_tps,cachealot_lat_ms,pgpool_tps,pgpool_lat_ms,cachealot_vs_plain,cachealot_vs_pgpool,cachealot_hit_pct,pgpool_hit_pct,runs" > csvfile
    nout = 0
    while ((getline line < rowsfile) > 0) {
        split(line, f, "|"); label = f[1]; w = f[2]; c = f[3]
        nm = split(modes[w], ms_, " ")
        for (i = 1; i <= nm; i++) {
            md = ms_[i]
            kp = w SUBSEP md SUBSEP "plain"; kc = w SUBSEP md SUBSEP c; kg = w SUBSEP md SUBSEP "pgpool"
            if (!(kc in n)) continue
            pt = median(tps[kp]); pl = median(lat[kp]); ct = median(tps[kc]); cl = median(lat[kc])
            gt = median(tps[kg]); gl = median(lat[kg])
            nout++
            olabel[nout] = label; ow[nout] = w; om[nout] = md
            # the CSV's text of each figure (numbers in awk's default CONVFMT)
            oc[nout, 4] = pt ""; oc[nout, 5] = pl ""; oc[nout, 6] = ct ""; oc[nout, 7] = cl ""
            oc[nout, 8] = gt ""; oc[nout, 9] = gl ""
            oc[nout, 10] = ratio(ct, pt); oc[nout, 11] = ratio(ct, gt)
            oc[nout, 12] = median(hit[kc]) ""; oc[nout, 13] = median(hit[kg]) ""
            oc[nout, 14] = sprintf("%d", n[kc])
            row = "\"" label "\"," w "," md
            for (j = 4; j <= 14; j++) row = row "," oc[nout, j]
            print row > csvfile
            printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", label, md,
                t(oc[nout, 4]), ms(oc[nout, 5]), t(oc[nout, 6]), ms(oc[nout, 7]), t(oc[nout, 8]), ms(oc[nout, 9]),
                r(oc[nout, 10]), r(oc[nout, 11]), p(oc[nout, 12]), p(oc[nout, 13]) > tablefile
            printf "%d \"%s (%s)\" %s %s\n", nout - 1, chart_label(w, label), md,
                (oc[nout, 10] == "" ? "NaN" : oc[nout, 10]), (oc[nout, 11] == "" ? "NaN" : oc[nout, 11]) > plotfile
        }
    }
    close(rowsfile)
    printf "" > tablefile; printf "" > plotfile   # exist even when empty

    # Goals of issue 5 against these medians (goals for the product, not assertions).
    printf "" > goalsfile
    split("prepared simple", order, " ")
    for (i = 1; i <= 2; i++) {
        m = order[i]
        dl = value("dashboard", m, 7); fl = value("floor", m, 5)
        v = (dl != "" && fl != "" && fl + 0 > 0) ? sprintf("%.3f", dl / fl) : ""
        goal("dashboard hit latency / plain SELECT 1 latency, -M " m, v, "le", 1.1,
            "%.2f× (goal ≤ 1.1×" (m == "simple" ? ", reported: parse and plan run before the executor hook" : "") ")")
        goal("dashboard cachealot / pgpool, -M " m, value("dashboard", m, 11), "ge", 1.0, "%.2f× (goal ≥ 1.0×)")
    }
    pre = "point: pgbench -S, max_memory "
    for (i = 2; i >= 1; i--) {
        m = order[i]
        goal("point cachealot / plain, max_memory " mem_default ", -M " m,
            value("point", m, 10, pre mem_default), "ge", 1.0, "%.2f× (goal ≥ 1.0×)")
        goal("point cachealot / plain, max_memory " mem_default ", min_cost " admit_min_cost ", -M " m,
            value("point", m, 10, pre mem_default ", min_cost"), "ge", 1.0, "%.2f× (goal ≥ 1.0×)")
        goal("point cachealot / plain, max_memory " mem_big ", -M " m,
            value("point", m, 10, pre mem_big), "ge", 1.0, "%.2f× (goal ≥ 1.0×)")
    }
    for (i = 2; i >= 1; i--) {
        m = order[i]
        goal("miss overhead (1 − cachealot/plain), -M " m,
            overhead(value("miss", m, 10)), "le", 3, "%s%% (goal ≤ 3%%)")
        goal("miss overhead with min_cost " admit_min_cost " (lookups bypass), -M " m,
            overhead(value("miss", m, 10, "miss: lookups that never repeat, min_cost")), "le", 3, "%s%% (goal ≤ 3%%)")
        goal("TPC-B write overhead (1 − cachealot/plain), -M " m,
            overhead(value("write", m, 10)), "le", 2, "%s%% (goal ≤ 2%%)")
    }
    for (i = 2; i >= 1; i--) {
        m = order[i]
        goal("mixed, 30% hot keys: cachealot / plain, -M " m,
            value("hot30", m, 10), "ge", 1.0, "%.2f× (goal ≥ 1.0×)")
        goal("point lookups, table updated every 10 statements: cachealot / plain, -M " m,
            value("upd10", m, 10), "ge", 0.97, "%.2f× (goal ≥ 0.97×)")
    }
    a = value("inv", "simple", 7, "write latency, empty"); b = value("inv", "simple", 7, "write latency, " fill_human)
    v = (a != "" && b != "" && a + 0 > 0) ? sprintf("%.3f", b / a) : ""
    goal("write latency with " fill_human " entries / with an empty cache", v, "le", 1.05,
        "%.2f× (goal: flat, ≤ 1.05× taken as flat)")

    print failed + 0
}
