import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Usage } from './api.js';

/**
 * The month's daily counts as bars, with the allowance as a line across: one look shows the days
 * over it. The figures are also in a table for screen readers.
 */
export function DailyChart({ usage }: { usage: Usage }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const xs = usage.days.map((_, i) => i + 1);
    const counts = usage.days.map((d) => d.count);
    const allowance = usage.days.map(() => usage.allowance);
    const styles = getComputedStyle(document.documentElement);
    const accent = styles.getPropertyValue('--accent').trim() || '#3366cc';
    const danger = styles.getPropertyValue('--danger').trim() || '#c0392b';
    const bars = uPlot.paths.bars?.({ size: [0.7, 40] });
    const width = () => Math.max(280, el.clientWidth);
    const plot = new uPlot(
      {
        width: width(),
        height: 220,
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
        scales: {
          x: { time: false, range: () => [0.4, xs.length + 0.6] },
          y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.15)] },
        },
        axes: [{ label: 'day of month' }, { label: 'seats' }],
        series: [
          { label: 'day' },
          {
            label: 'seats',
            fill: `${accent}55`,
            stroke: accent,
            ...(bars ? { paths: bars } : {}),
            points: { show: false },
          },
          { label: 'allowance', stroke: danger, width: 2, dash: [6, 4], points: { show: false } },
        ],
      },
      [xs, counts, allowance as (number | null)[]],
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: width(), height: 220 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [usage]);
  return (
    <figure class="chart">
      <div
        ref={box}
        role="img"
        aria-label={`Daily seats in ${usage.month}${usage.allowance === null ? '' : ` against an allowance of ${usage.allowance}`}`}
      />
      <figcaption class="muted">
        Seats held each day ({usage.counting.presence === 'activity' ? 'members with data' : 'active users'});
        the dashed line is the allowance.
      </figcaption>
      <table class="visually-hidden" data-testid="chart-table">
        <caption>Daily seats in {usage.month}</caption>
        <thead>
          <tr>
            <th scope="col">Date</th>
            <th scope="col">Seats</th>
          </tr>
        </thead>
        <tbody>
          {usage.days.map((d) => (
            <tr key={d.date}>
              <td>{d.date}</td>
              <td>{d.count}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
