// Bot4's Grafana dashboards as code (typed builders of @grafana/grafana-foundation-sdk; the JSON in
// dashboards/ is generated from here by generate.ts, never edited by hand). Every panel queries metrics that
// src/monitoring exports; deploy/grafana/dashboards.test.ts runs each query against a real Prometheus.

import * as common from '@grafana/grafana-foundation-sdk/common';
import {
  DashboardBuilder,
  QueryVariableBuilder,
  RowBuilder,
  VariableRefresh,
} from '@grafana/grafana-foundation-sdk/dashboard';
import * as heatmap from '@grafana/grafana-foundation-sdk/heatmap';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';

/** The provisioned Prometheus datasource (provisioning/datasources/bot4.yml). */
export const DATASOURCE = { type: 'prometheus', uid: 'bot4-prometheus' };
const RI = '$__rate_interval';
/** Every query narrows to the chosen nodes. */
const SEL = 'instance=~"$instance"';

interface Query {
  expr: string;
  legend?: string;
}

function target(q: Query, i: number, format?: 'heatmap'): DataqueryBuilder {
  const b = new DataqueryBuilder()
    .expr(q.expr)
    .refId(String.fromCharCode(65 + i))
    .datasource(DATASOURCE);
  if (q.legend !== undefined) b.legendFormat(q.legend);
  if (format !== undefined) b.format(format as never);
  return b;
}

function ts(title: string, unit: string, description: string, ...queries: Query[]): timeseries.PanelBuilder {
  const p = new timeseries.PanelBuilder()
    .title(title)
    .description(description)
    .unit(unit)
    .datasource(DATASOURCE)
    .height(8)
    .span(12)
    .fillOpacity(10)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.Table)
        .placement(common.LegendPlacement.Bottom),
    );
  for (const [i, q] of queries.entries()) p.withTarget(target(q, i));
  return p;
}

function single(title: string, unit: string, description: string, q: Query): stat.PanelBuilder {
  return new stat.PanelBuilder()
    .title(title)
    .description(description)
    .unit(unit)
    .datasource(DATASOURCE)
    .height(4)
    .span(6)
    .withTarget(target(q, 0));
}

function latencyHeatmap(title: string, description: string, expr: string): heatmap.PanelBuilder {
  return new heatmap.PanelBuilder()
    .title(title)
    .description(description)
    .datasource(DATASOURCE)
    .height(9)
    .span(12)
    .calculate(false)
    .yAxis(new heatmap.YAxisConfigBuilder().unit('s'))
    .color(
      new heatmap.HeatmapColorOptionsBuilder()
        .mode(heatmap.HeatmapColorMode.Scheme)
        .scheme('Oranges')
        .exponent(0.5),
    )
    .cellGap(1)
    .withTarget(target({ expr, legend: '{{le}}' }, 0, 'heatmap'));
}

function instanceVariable(): QueryVariableBuilder {
  return new QueryVariableBuilder('instance')
    .label('node')
    .datasource(DATASOURCE)
    .query('label_values(bot4_node_info, instance)')
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .multi(true)
    .includeAll(true)
    .allValue('.+');
}

function dashboard(uid: string, title: string, description: string): DashboardBuilder {
  return new DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags(['bot4', 'generated'])
    .refresh('10s')
    .time({ from: 'now-30m', to: 'now' })
    .timezone('utc')
    .withVariable(instanceVariable());
}

function latency(): DashboardBuilder {
  const stageVar = new QueryVariableBuilder('stage')
    .label('stage')
    .datasource(DATASOURCE)
    .query(`label_values(bot4_stage_latency_seconds_count{${SEL}}, stage)`)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .multi(true)
    .includeAll(true)
    .allValue('.+');
  return dashboard(
    'bot4-latency',
    'Bot4 / Latency',
    'Latency distribution of each hot-path stage, from the HDR histograms.',
  )
    .withVariable(stageVar)
    .withRow(new RowBuilder('Distribution per stage'))
    .withPanel(
      latencyHeatmap(
        'Latency heatmap: $stage',
        'Values per HDR-derived bucket per interval (rate of the classic histogram); one panel per stage.',
        `sum by (le) (rate(bot4_stage_latency_seconds_bucket{${SEL}, stage=~"$stage"}[${RI}]))`,
      ).repeat('stage'),
    )
    .withRow(new RowBuilder('Percentiles'))
    .withPanel(
      ts(
        'p99 over the interval per stage',
        's',
        'histogram_quantile over the classic histogram: the p99 of values recorded in each interval.',
        {
          expr: `histogram_quantile(0.99, sum by (stage, le) (rate(bot4_stage_latency_seconds_bucket{${SEL}, stage=~"$stage"}[${RI}])))`,
          legend: '{{stage}}',
        },
      ),
    )
    .withPanel(
      ts(
        'p50 / p99 / p99.9 since start per stage',
        's',
        'The summary the HDR histograms export (0.1% precision; cumulative since the node started).',
        {
          expr: `bot4_stage_latency_quantile_seconds{${SEL}, stage=~"$stage"}`,
          legend: '{{stage}} p{{quantile}}',
        },
      ),
    )
    .withPanel(
      ts('Mean per stage', 's', 'Sum over count of values recorded in each interval.', {
        expr: `sum by (stage) (rate(bot4_stage_latency_seconds_sum{${SEL}, stage=~"$stage"}[${RI}])) / sum by (stage) (rate(bot4_stage_latency_seconds_count{${SEL}, stage=~"$stage"}[${RI}]))`,
        legend: '{{stage}}',
      }),
    );
}

function throughput(): DashboardBuilder {
  return dashboard('bot4-throughput', 'Bot4 / Throughput', 'Events, orders and fills per second.')
    .withPanel(
      ts('Market events in', 'ops', 'Market-data events taken in by the engine, by venue and kind.', {
        expr: `sum by (venue, kind) (rate(bot4_market_events_total{${SEL}}[${RI}]))`,
        legend: '{{venue}} {{kind}}',
      }),
    )
    .withPanel(
      ts('Order events', 'ops', 'Order events published by the execution engine.', {
        expr: `sum by (event) (rate(bot4_order_events_total{${SEL}}[${RI}]))`,
        legend: '{{event}}',
      }),
    )
    .withPanel(
      ts('Fills', 'ops', 'Fills per second by instrument.', {
        expr: `sum by (instrument) (rate(bot4_fills_total{${SEL}}[${RI}]))`,
        legend: '{{instrument}}',
      }),
    )
    .withPanel(
      ts('Stage runs', 'ops', 'Values recorded per second per latency stage (batches, scrapes, messages).', {
        expr: `sum by (stage) (rate(bot4_stage_latency_seconds_count{${SEL}}[${RI}]))`,
        legend: '{{stage}}',
      }),
    );
}

function memory(): DashboardBuilder {
  return dashboard('bot4-memory', 'Bot4 / Memory', 'V8 heap, RSS, allocation rate and garbage collection.')
    .withPanel(
      ts(
        'Heap and RSS',
        'bytes',
        'V8 heap by area (v8.getHeapStatistics) and resident set size.',
        { expr: `bot4_heap_bytes{${SEL}, area!="limit"}`, legend: 'heap {{area}}' },
        { expr: `bot4_resident_memory_bytes{${SEL}}`, legend: 'rss' },
      ),
    )
    .withPanel(
      ts(
        'Allocation rate',
        'Bps',
        'Bytes allocated on the V8 heap per second (heap growth plus what GC freed).',
        {
          expr: `rate(bot4_heap_allocated_bytes_total{${SEL}}[${RI}])`,
          legend: '{{instance}}',
        },
      ),
    )
    .withPanel(
      ts(
        'GC pause time per second',
        's',
        'Seconds of GC pause per second of wall time, by kind (perf_hooks).',
        {
          expr: `sum by (kind) (rate(bot4_gc_pause_seconds_total{${SEL}}[${RI}]))`,
          legend: '{{kind}}',
        },
      ),
    )
    .withPanel(
      ts('GC runs', 'ops', 'Collections per second by kind.', {
        expr: `sum by (kind) (rate(bot4_gc_runs_total{${SEL}}[${RI}]))`,
        legend: '{{kind}}',
      }),
    );
}

function cpu(): DashboardBuilder {
  return dashboard(
    'bot4-cpu',
    'Bot4 / CPU',
    'CPU per thread, context switches, page faults, event loop, perf counters.',
  )
    .withPanel(
      ts(
        'CPU per thread',
        'percentunit',
        'CPU time per thread (/proc/self/task): main, bot4-pool-N, V8 helpers.',
        {
          expr: `sum by (thread, tid) (rate(bot4_thread_cpu_seconds_total{${SEL}}[${RI}]))`,
          legend: '{{thread}} ({{tid}})',
        },
      ).stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal)),
    )
    .withPanel(
      ts(
        'Event loop',
        'percentunit',
        'Utilisation (busy share of wall time) and lag p99 in seconds on the right axis.',
        { expr: `rate(bot4_event_loop_active_seconds_total{${SEL}}[${RI}])`, legend: 'utilisation' },
        { expr: `bot4_event_loop_lag_seconds{${SEL}, stat="p99"}`, legend: 'lag p99 (s)' },
      ).overrideByName('lag p99 (s)', [
        { id: 'unit', value: 's' },
        { id: 'custom.axisPlacement', value: 'right' },
      ]),
    )
    .withPanel(
      ts(
        'Context switches per thread',
        'ops',
        'Involuntary (preempted) and voluntary (waited) switches per thread.',
        {
          expr: `sum by (thread, kind) (rate(bot4_thread_context_switches_total{${SEL}}[${RI}]))`,
          legend: '{{thread}} {{kind}}',
        },
      ),
    )
    .withPanel(
      ts(
        'Page faults and process context switches',
        'ops',
        'From /proc/self (and from perf stat, same events, where attached).',
        { expr: `sum by (kind) (rate(bot4_page_faults_total{${SEL}}[${RI}]))`, legend: 'faults {{kind}}' },
        {
          expr: `sum by (kind) (rate(bot4_context_switches_total{${SEL}}[${RI}]))`,
          legend: 'switches {{kind}}',
        },
        { expr: `rate(bot4_perf_context_switches_total{${SEL}}[${RI}])`, legend: 'switches (perf)' },
      ),
    )
    .withPanel(
      single(
        'Hardware counters',
        'none',
        '1 when cache misses and branch mispredicts are read through perf; 0 on machines without a PMU (see the node log).',
        { expr: `min(bot4_hw_counters_available{${SEL}})` },
      ),
    );
}

function hotPaths(): DashboardBuilder {
  const shareExpr = `sum by (stage) (rate(bot4_stage_latency_seconds_sum{${SEL}}[${RI}])) / scalar(sum(rate(bot4_stage_latency_seconds_sum{${SEL}}[${RI}])))`;
  return dashboard(
    'bot4-hot-paths',
    'Bot4 / Hot paths',
    "Each pipeline stage's share of the time spent in timed stages; functions: run `bot4 profile -- <command>`.",
  )
    .withPanel(
      ts(
        'Share of timed time per stage',
        'percentunit',
        'Seconds spent in each stage over the seconds in all stages.',
        {
          expr: shareExpr,
          legend: '{{stage}}',
        },
      ).stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal)),
    )
    .withPanel(
      ts('Time in stage per second', 's', 'Seconds per second spent in each stage (1 = a whole thread).', {
        expr: `sum by (stage) (rate(bot4_stage_latency_seconds_sum{${SEL}}[${RI}]))`,
        legend: '{{stage}}',
      }),
    );
}

function trading(): DashboardBuilder {
  return dashboard(
    'bot4-trading',
    'Bot4 / Trading overview',
    'Orders, rejects, risk state, positions and PnL.',
  )
    .withPanel(
      single('Trading state', 'none', '0 active, 1 reducing only, 2 halted.', {
        expr: `max(bot4_trading_state{${SEL}})`,
      }),
    )
    .withPanel(
      single('Kill switch', 'none', '1 while the kill switch holds trading halted.', {
        expr: `max(bot4_kill_switch_engaged{${SEL}})`,
      }),
    )
    .withPanel(
      single('Open breakers', 'none', 'Circuit breakers open (1) or half-open (2), all scopes.', {
        expr: `count(bot4_breaker_state{${SEL}} > 0) or vector(0)`,
      }),
    )
    .withPanel(
      single('Open orders', 'none', 'Orders working at venues or held locally.', {
        expr: `sum(bot4_orders_open{${SEL}})`,
      }),
    )
    .withPanel(
      ts(
        'Rejects by reason',
        'ops',
        'Orders refused per second by source (risk reason codes, engine, venue).',
        {
          expr: `sum by (source, reason) (rate(bot4_order_rejects_total{${SEL}}[${RI}]))`,
          legend: '{{source}} {{reason}}',
        },
      ),
    )
    .withPanel(
      ts('Open orders by state', 'none', 'From the order cache.', {
        expr: `sum by (state) (bot4_orders_open{${SEL}})`,
        legend: '{{state}}',
      }),
    )
    .withPanel(
      ts('Breakers', 'none', '0 closed, 1 open, 2 half-open, per scope and id.', {
        expr: `bot4_breaker_state{${SEL}}`,
        legend: '{{scope}} {{id}}',
      }),
    )
    .withPanel(
      ts('Position', 'none', 'Net position per instrument in base units (long > 0).', {
        expr: `bot4_position_base_units{${SEL}}`,
        legend: '{{instrument}}',
      }),
    )
    .withPanel(
      ts(
        'Exposure and unrealised PnL per instrument',
        'none',
        'Signed exposure at mark and unrealised PnL, in each instrument settlement currency.',
        { expr: `bot4_exposure_settlement_units{${SEL}}`, legend: 'exposure {{instrument}}' },
        { expr: `bot4_unrealised_pnl_settlement_units{${SEL}}`, legend: 'uPnL {{instrument}}' },
      ),
    )
    .withPanel(
      ts(
        'PnL and equity',
        'none',
        'Realised and unrealised PnL and equity per settlement currency.',
        { expr: `bot4_pnl_realised{${SEL}}`, legend: 'realised {{currency}}' },
        { expr: `bot4_pnl_unrealised{${SEL}}`, legend: 'unrealised {{currency}}' },
        { expr: `bot4_equity{${SEL}}`, legend: 'equity {{currency}}' },
      ),
    );
}

function venues(): DashboardBuilder {
  return dashboard(
    'bot4-venues',
    'Bot4 / Venues',
    'Connections, feeds and rate limits of a paper or live node (no series in a backtest).',
  )
    .withPanel(
      single('Disconnected venues', 'none', 'Venues whose sessions are down.', {
        expr: `count(bot4_venue_connected{${SEL}} == 0) or vector(0)`,
      }),
    )
    .withPanel(
      ts('Feed staleness', 's', 'Seconds since the last market-data message per venue.', {
        expr: `bot4_feed_last_message_age_seconds{${SEL}}`,
        legend: '{{venue}}',
      }),
    )
    .withPanel(
      ts(
        'Rate-limit weight used',
        'percentunit',
        "Share of the venue's request-weight limit used in its window.",
        {
          expr: `bot4_rate_limit_weight_used{${SEL}} / bot4_rate_limit_weight_limit{${SEL}}`,
          legend: '{{venue}}',
        },
      ),
    )
    .withPanel(
      ts(
        'Reconnects and book resyncs',
        'ops',
        'Per second, per venue.',
        {
          expr: `sum by (venue) (rate(bot4_venue_reconnects_total{${SEL}}[${RI}]))`,
          legend: 'reconnects {{venue}}',
        },
        {
          expr: `sum by (venue) (rate(bot4_book_resyncs_total{${SEL}}[${RI}]))`,
          legend: 'resyncs {{venue}}',
        },
      ),
    )
    .withPanel(
      ts(
        'Feed latency and tick-to-trade p99 since start',
        's',
        'Venue time to receive, and receive to order sent.',
        {
          expr: `bot4_stage_latency_quantile_seconds{${SEL}, stage=~"feed\\\\..+|tick_to_trade\\\\..+", quantile="0.99"}`,
          legend: '{{stage}}',
        },
      ),
    );
}

export interface DashboardFile {
  file: string;
  build: () => DashboardBuilder;
  /** Panels that only a node connected to venues feeds (a backtest exports none of these series). */
  liveOnly?: boolean;
}

export const DASHBOARDS: readonly DashboardFile[] = [
  { file: 'bot4-latency.json', build: latency },
  { file: 'bot4-throughput.json', build: throughput },
  { file: 'bot4-memory.json', build: memory },
  { file: 'bot4-cpu.json', build: cpu },
  { file: 'bot4-hot-paths.json', build: hotPaths },
  { file: 'bot4-trading.json', build: trading },
  { file: 'bot4-venues.json', build: venues, liveOnly: true },
];

/** Every panel query of a built dashboard, with the panel title (rows included). */
export function panelQueries(dash: { panels?: unknown[] }): { panel: string; expr: string }[] {
  const out: { panel: string; expr: string }[] = [];
  const visit = (p: { title?: string; targets?: { expr?: string }[]; panels?: unknown[] }) => {
    for (const t of p.targets ?? [])
      if (t.expr !== undefined) out.push({ panel: p.title ?? '', expr: t.expr });
    for (const c of p.panels ?? []) visit(c as never);
  };
  for (const p of dash.panels ?? []) visit(p as never);
  return out;
}
