# plot.gp: the chart of `make bench` (called by test/bench/report.sh).
#   gnuplot -e "datafile='plot.dat'; outfile='latest.png'; charttitle='...'" plot.gp
# plot.dat, one line per table row and protocol:
#   index "label (mode)" cachealot/plain cachealot/pgpool     (NaN: not measured)
# Bars start at 1 (a log axis): above the line cachealot is faster, below slower;
# each bar carries its value.

set terminal pngcairo size 1500,760 font "sans,10" noenhanced
set output outfile
set title charttitle noenhanced font "sans,12"
set logscale y 10
set format y "%g×"
set ylabel "TPS ratio (log scale)"
set grid ytics mytics lc rgb "#dddddd"
set key top left box opaque
set style fill solid 0.85 border lc rgb "#333333"
set bmargin 11
set rmargin 10
set xtics rotate by -35 left nomirror font ",9"
set ytics nomirror
set border 3

stats datafile using 1 nooutput
n = STATS_max + 1
set xrange [-0.6:n - 0.4]

w = 0.36
plot \
  datafile using 1:(NaN):xtic(2) with points notitle, \
  datafile using ($1 - w/2):3:($1 - w):($1):(1):3 with boxxyerror \
      lc rgb "#2b6cb0" title "cachealot / plain", \
  datafile using ($1 + w/2):4:($1):($1 + w):(1):4 with boxxyerror \
      lc rgb "#dd6b20" title "cachealot / pgpool", \
  1 with lines dt 2 lw 1.5 lc rgb "black" notitle, \
  datafile using ($1 - w/2):($3 >= 1 ? $3 * 1.2 : $3 / 1.2):(sprintf($3 >= 10 ? "%.0f" : "%.2f", $3)) \
      with labels font ",8" notitle, \
  datafile using ($1 + w/2):($4 >= 1 ? $4 * 1.2 : $4 / 1.2):(sprintf($4 >= 10 ? "%.0f" : "%.2f", $4)) \
      with labels font ",8" notitle
