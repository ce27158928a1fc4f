// The Bot4 web console (preact, bundled by src/control/bundle.ts; no CDN). Log in with a token (kept in this
// tab's sessionStorage only), then: status bar, positions, open orders, equity curve (lightweight-charts),
// latency, breakers, strategies, live log tail, and the operator's buttons (kill switch, resume, cancel-all,
// flatten). Live data comes over the WebSocket /api/ws (the token as subprotocol `bearer.<token>`); actions
// are POSTs with the bearer header. A read-only token sees everything and its buttons are disabled.

import {
  createChart,
  type IChartApi,
  type ISeriesApi,
  LineSeries,
  type UTCTimestamp,
} from 'lightweight-charts';
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import './app.css';

type Json = Record<string, unknown>;
interface Status {
  mode: string;
  uptimeSec: number;
  tradingState: string;
  currency: string;
  equity: number;
  pnl: number;
  orders: {
    submitted: number;
    open: number;
    fills: number;
    canceled: number;
    rejected: number;
    denied: number;
  };
  marketData: { messages: number; gaps: number; reconnects: number };
  latency: {
    handlerP50Us: number | null;
    handlerP99Us: number | null;
    tickToTradeP50Us: number | null;
    tickToTradeP99Us: number | null;
    events: number;
  };
  killSwitch: { reason: string; text: string } | null;
}
interface Snapshot {
  status: Status;
  positions: Json[];
  orders: Json[];
  breakers: Json[];
  equity: { t: number; equity: number } | null;
}
interface LogLine {
  seq: number;
  ts: number;
  line: string;
}

const TOKEN_KEY = 'bot4.token';

async function api(token: string, method: string, path: string, body?: Json): Promise<unknown> {
  const r = await fetch(path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const data = (await r.json().catch(() => ({}))) as Json;
  if (!r.ok) throw new Error(`${r.status}: ${String(data.error ?? r.statusText)}`);
  return data;
}

function Login(props: { onLogin: (token: string, role: string) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      const who = (await api(token.trim(), 'GET', '/api/whoami')) as { role: string };
      sessionStorage.setItem(TOKEN_KEY, token.trim());
      props.onLogin(token.trim(), who.role);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <form class="login" onSubmit={submit}>
      <h1>Bot4 console</h1>
      <label>
        Token{' '}
        <input
          id="token"
          type="password"
          autocomplete="off"
          value={token}
          onInput={(e) => setToken((e.target as HTMLInputElement).value)}
        />
      </label>
      <button id="login" type="submit">
        Log in
      </button>
      {error !== '' && <p class="error">{error}</p>}
    </form>
  );
}

function Table(props: { id: string; rows: Json[]; cols: string[]; empty: string }) {
  if (props.rows.length === 0)
    return (
      <p id={props.id} class="empty">
        {props.empty}
      </p>
    );
  return (
    <table id={props.id}>
      <thead>
        <tr>
          {props.cols.map((c) => (
            <th key={c}>{c}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.rows.map((r, i) => (
          <tr key={i}>
            {props.cols.map((c) => (
              <td key={c}>{r[c] === null || r[c] === undefined ? '' : String(r[c])}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Equity(props: { points: { t: number; equity: number }[] }) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<{ chart: IChartApi; series: ISeriesApi<'Line'>; last: number } | null>(null);
  useEffect(() => {
    if (el.current === null) return;
    const c = createChart(el.current, {
      height: 220,
      layout: { attributionLogo: false, background: { color: '#182028' }, textColor: '#d8e0e8' },
      grid: { vertLines: { color: '#2a3540' }, horzLines: { color: '#2a3540' } },
      timeScale: { timeVisible: true, secondsVisible: true },
    });
    chart.current = { chart: c, series: c.addSeries(LineSeries, { lineWidth: 2 }), last: 0 };
    return () => c.remove();
  }, []);
  useEffect(() => {
    const c = chart.current;
    if (c === null) return;
    // One point a second at most (the chart's time is whole seconds): later samples of a second replace it.
    const bySec = new Map<number, number>();
    for (const p of props.points) bySec.set(Math.floor(p.t / 1000), p.equity);
    const data = [...bySec].map(([t, v]) => ({ time: t as UTCTimestamp, value: v }));
    c.series.setData(data);
  }, [props.points]);
  return <div id="equity-chart" ref={el} />;
}

function Dashboard(props: { token: string; role: string; onLogout: () => void }) {
  const { token, role } = props;
  const [snap, setSnap] = useState<Snapshot | null>(null);
  const [curve, setCurve] = useState<{ t: number; equity: number }[]>([]);
  const [log, setLog] = useState<LogLine[]>([]);
  const [strategies, setStrategies] = useState<Json[]>([]);
  const [message, setMessage] = useState('');
  const [connected, setConnected] = useState(false);
  const operator = role === 'operator';

  const refreshStrategies = () =>
    api(token, 'GET', '/api/strategies').then(
      (s) => setStrategies(s as Json[]),
      () => {},
    );

  useEffect(() => {
    let closed = false;
    let ws: WebSocket | undefined;
    api(token, 'GET', '/api/pnl').then(
      (p) => setCurve((p as { curve: { t: number; equity: number }[] }).curve),
      () => {},
    );
    api(token, 'GET', '/api/log').then(
      (l) => setLog((l as LogLine[]).slice(-200)),
      () => {},
    );
    void refreshStrategies();
    const connect = () => {
      const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
      ws = new WebSocket(`${proto}//${location.host}/api/ws`, ['bot4', `bearer.${token}`]);
      ws.onopen = () => setConnected(true);
      ws.onmessage = (m) => {
        const d = JSON.parse(String(m.data)) as Json;
        if (d.type === 'snapshot') {
          const s = d as unknown as Snapshot;
          setSnap(s);
          if (s.equity !== null) setCurve((c) => [...c.slice(-3600), s.equity!]);
        } else if (d.type === 'log') setLog((l) => [...l.slice(-199), d as unknown as LogLine]);
      };
      ws.onclose = () => {
        setConnected(false);
        if (!closed) setTimeout(connect, 1000);
      };
    };
    connect();
    return () => {
      closed = true;
      ws?.close();
    };
  }, [token]);

  const act = async (label: string, path: string, body: Json = {}) => {
    try {
      await api(token, 'POST', path, body);
      setMessage(`${label}: done`);
      void refreshStrategies();
    } catch (e) {
      setMessage(`${label}: ${(e as Error).message}`);
    }
  };

  const st = snap?.status;
  const money = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(2));
  const us = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : `${v} us`);
  return (
    <div class="dash">
      <header>
        <h1>Bot4 {st?.mode ?? ''}</h1>
        <span id="trading-state" class={`state ${st?.tradingState ?? ''}`}>
          {st?.tradingState ?? '...'}
        </span>
        <span>
          equity <b id="equity">{money(st?.equity)}</b> {st?.currency} (PnL <b id="pnl">{money(st?.pnl)}</b>)
        </span>
        <span>
          orders {st?.orders.submitted ?? 0} sent, <b id="fills">{st?.orders.fills ?? 0}</b> fills
        </span>
        <span class={connected ? 'live' : 'offline'}>{connected ? 'live' : 'offline'}</span>
        <span class="role">
          {role}{' '}
          <button type="button" onClick={props.onLogout}>
            log out
          </button>
        </span>
      </header>
      <section class="controls">
        <button
          id="kill"
          class="danger"
          type="button"
          disabled={!operator}
          onClick={() => act('kill switch', '/api/kill', { reason: 'console' })}
        >
          KILL SWITCH
        </button>
        <button
          id="resume"
          type="button"
          disabled={!operator}
          onClick={() => act('resume', '/api/trading-state', { state: 'ACTIVE' })}
        >
          Resume trading
        </button>
        <button
          id="cancel-all"
          type="button"
          disabled={!operator}
          onClick={() => act('cancel all', '/api/cancel-all')}
        >
          Cancel all
        </button>
        <button
          id="flatten"
          type="button"
          disabled={!operator}
          onClick={() => act('flatten', '/api/flatten', { reason: 'console' })}
        >
          Flatten
        </button>
        <span id="message">{message}</span>
      </section>
      {st?.killSwitch != null && <pre id="kill-report">{st.killSwitch.text}</pre>}
      <div class="grid">
        <section>
          <h2>Positions</h2>
          <Table
            id="positions"
            rows={snap?.positions ?? []}
            cols={['instrument', 'qty', 'avgPx', 'markPx', 'realisedPnl', 'unrealisedPnl', 'fills']}
            empty="no positions"
          />
          <h2>Open orders</h2>
          <Table
            id="orders"
            rows={snap?.orders ?? []}
            cols={['id', 'instrument', 'side', 'type', 'qty', 'filled', 'price', 'status']}
            empty="no open orders"
          />
        </section>
        <section>
          <h2>Equity</h2>
          <Equity points={curve} />
          <h2>Latency</h2>
          <p id="latency">
            handler p50 {us(st?.latency.handlerP50Us)} p99 {us(st?.latency.handlerP99Us)}; tick-to-trade p50{' '}
            {us(st?.latency.tickToTradeP50Us)} p99 {us(st?.latency.tickToTradeP99Us)};{' '}
            {st?.latency.events ?? 0} events; market data {st?.marketData.messages ?? 0} msgs,{' '}
            {st?.marketData.gaps ?? 0} gaps, {st?.marketData.reconnects ?? 0} reconnects
          </p>
        </section>
        <section>
          <h2>Breakers</h2>
          <table id="breakers">
            <tbody>
              {(snap?.breakers ?? []).map((b) => (
                <tr key={`${b.scope}-${b.id}`}>
                  <td>{String(b.scope)}</td>
                  <td>{String(b.name)}</td>
                  <td class={`breaker ${String(b.state)}`}>{String(b.state)}</td>
                  <td>{b.reopensAt === null ? '' : String(b.reopensAt)}</td>
                  <td>
                    <button
                      type="button"
                      disabled={!operator || b.state === 'CLOSED'}
                      onClick={() =>
                        act(`reset ${b.name}`, '/api/breakers/reset', { scope: b.scope, id: b.id })
                      }
                    >
                      reset
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Strategies</h2>
          <table id="strategies">
            <tbody>
              {strategies.map((s) => (
                <tr key={String(s.id)}>
                  <td>{String(s.id)}</td>
                  <td>{String(s.name)}</td>
                  <td>{String(s.state)}</td>
                  <td>
                    <button
                      type="button"
                      disabled={!operator || s.state === 'RUNNING'}
                      onClick={() => act(`start ${s.name}`, `/api/strategies/${s.id}/start`)}
                    >
                      start
                    </button>{' '}
                    <button
                      type="button"
                      disabled={!operator || s.state !== 'RUNNING'}
                      onClick={() =>
                        act(`stop ${s.name}`, `/api/strategies/${s.id}/stop`, { cancelOrders: true })
                      }
                    >
                      stop
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      </div>
      <section>
        <h2>Log</h2>
        <pre id="log">
          {log.map((l) => `${new Date(l.ts).toISOString().slice(11, 19)} ${l.line}`).join('\n')}
        </pre>
      </section>
    </div>
  );
}

function App() {
  const [auth, setAuth] = useState<{ token: string; role: string } | null>(null);
  useEffect(() => {
    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved === null) return;
    api(saved, 'GET', '/api/whoami').then(
      (w) => setAuth({ token: saved, role: (w as { role: string }).role }),
      () => sessionStorage.removeItem(TOKEN_KEY),
    );
  }, []);
  if (auth === null) return <Login onLogin={(token, role) => setAuth({ token, role })} />;
  return (
    <Dashboard
      token={auth.token}
      role={auth.role}
      onLogout={() => {
        sessionStorage.removeItem(TOKEN_KEY);
        setAuth(null);
      }}
    />
  );
}

render(<App />, document.getElementById('app')!);
