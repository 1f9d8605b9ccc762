/**
 * The Kumul dashboard: hash routes (#/network, #/energy/<site>, #/work, #/work/<tenant>/<job>, #/savings, #/backup,
 * #/tenant, #/services, #/services/<tenant>/<service>), one view at a time, refreshed on each dispatch-loop tick from `EventSource('/v1/events')`
 * (at most once every 2 s), and every 5 s while that stream is down. docs/dashboard.md describes the views.
 */
import './style.css';
import { currentSession } from './api.ts';
import { fill, h, utc } from './dom.ts';
import type { Tick } from './types.ts';
import { router, serviceClock, type Route, type View } from './view.ts';
import { energyView } from './views/energy.ts';
import { networkView } from './views/network.ts';
import { savingsView } from './views/savings.ts';
import { servicesView } from './views/services.ts';
import { tenantView } from './views/tenant.ts';
import { workView } from './views/work.ts';
import { backupView } from './views/backup.ts';

const REFRESH_MIN_INTERVAL_MS = 2000;
const POLL_WITHOUT_EVENTS_MS = 5_000;

const main = document.getElementById('main')!;
const live = document.getElementById('live')!;
const liveState = document.getElementById('live-state')!;
const liveTime = document.getElementById('live-time')!;
const who = document.getElementById('who')!;
let view: View | null = null;
let route: Route = { name: '', parts: [] };

/** `#/work/lab/j%201` → `{ name: 'work', parts: ['lab', 'j 1'] }` (parts decoded; a malformed escape is kept as typed). */
function parseRoute(hash: string): Route | null {
  if (!hash.startsWith('#/')) return null;
  const decode = (part: string) => {
    try {
      return decodeURIComponent(part);
    } catch {
      return part;
    }
  };
  const [name = '', ...parts] = hash.slice(2).split('?')[0].split('/').filter(Boolean);
  return { name, parts: parts.map(decode) };
}

function showSession(): void {
  const session = currentSession();
  fill(who, session ? h('a', { href: '#/tenant' }, `${session.tenantId} (${session.role})`) : h('a', { href: '#/tenant' }, 'Log in'));
}

function mount(next: Route): void {
  view?.dispose();
  route = next;
  for (const a of document.querySelectorAll<HTMLAnchorElement>('nav.views a')) {
    if (a.dataset.view === next.name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const again = () => {
    mount(route);
    main.focus();
  };
  showSession();
  main.replaceChildren();
  switch (next.name) {
    case 'energy':
      view = energyView(main, next.parts[0]);
      break;
    case 'work':
      view = workView(main, next.parts, again);
      break;
    case 'savings':
      view = savingsView(main);
      break;
    case 'tenant':
      view = tenantView(main, again);
      break;
    case 'services':
      view = servicesView(main, next.parts, again);
      break;
    case 'backup':
      view = backupView(main, again);
      break;
    default:
      view = networkView(main);
  }
  const title = next.name ? next.name[0].toUpperCase() + next.name.slice(1) : 'Network';
  document.title = `${title} · Kumul`;
  void refresh(true);
}

/** What identifies a control across a refresh that rebuilt it: its tag, target or name, and its label or else its text (a table's figures change, its label does not). */
function focusKey(el: Element): string {
  return [el.tagName, el.getAttribute('href'), el.getAttribute('name'), el.getAttribute('aria-label') ?? el.textContent?.trim()].join('|');
}

/** The scroll offsets of the view's table boxes by label, to put back on the boxes a refresh rebuilds. */
function tableScrolls(): Map<string, [number, number]> {
  const boxes = [...main.querySelectorAll<HTMLElement>('.table-wrap[aria-label]')];
  return new Map(boxes.filter((el) => el.scrollLeft || el.scrollTop).map((el) => [el.getAttribute('aria-label')!, [el.scrollLeft, el.scrollTop]]));
}

let refreshing = false;
let lastRefreshMs = 0;
let pending: ReturnType<typeof setTimeout> | null = null;

/** Refreshes the visible view: now when `force`, otherwise at most once every 2 s. */
async function refresh(force = false): Promise<void> {
  const wait = lastRefreshMs + REFRESH_MIN_INTERVAL_MS - performance.now();
  if (!force && (refreshing || wait > 0)) {
    pending ??= setTimeout(() => {
      pending = null;
      void refresh();
    }, Math.max(wait, 200));
    return;
  }
  const current = view;
  refreshing = true;
  lastRefreshMs = performance.now();
  const focused = document.activeElement;
  const focusedKey = focused && focused !== main && main.contains(focused) ? focusKey(focused) : null;
  const scrolls = tableScrolls();
  try {
    await current?.refresh();
    // Tables scrolled sideways (at phone width) stay where they were.
    if (current === view) {
      for (const box of main.querySelectorAll<HTMLElement>('.table-wrap[aria-label]')) {
        const at = scrolls.get(box.getAttribute('aria-label')!);
        if (at) [box.scrollLeft, box.scrollTop] = at;
      }
    }
    // A refresh that rebuilt the focused control gives the focus to its successor, so keyboard users keep their place.
    if (focusedKey && !focused!.isConnected && current === view) {
      const successor = [...main.querySelectorAll('a, button, input, select, [tabindex]')].find((el) => focusKey(el) === focusedKey);
      (successor as HTMLElement | undefined)?.focus({ preventScroll: true });
    }
    main.querySelector('#load-error')?.remove();
  } catch (err) {
    if (current === view) {
      const text = `Could not load: ${err instanceof Error ? err.message : String(err)}`;
      const shown = main.querySelector('#load-error');
      if (shown) shown.textContent = text;
      else main.prepend(h('p', { id: 'load-error', class: 'message error', role: 'alert' }, text));
    }
  } finally {
    refreshing = false;
    // Loaded or failed: either way screen readers should read what is there (the error included).
    main.removeAttribute('aria-busy');
  }
}

/** The connection state (a live region, so changes of state are announced) and the service's time (not announced: it changes at every tick). */
function setLive(state: 'connecting' | 'live' | 'offline', detail = ''): void {
  live.dataset.state = state;
  const text = { connecting: 'Connecting…', live: 'Live', offline: 'Offline, retrying' }[state];
  if (liveState.textContent !== text) liveState.textContent = text;
  liveTime.textContent = detail ? ` · ${detail}` : '';
}

function connect(): void {
  setLive('connecting');
  const events = new EventSource('/v1/events');
  events.addEventListener('open', () => setLive('live', serviceClock.nowMs ? utc(serviceClock.nowMs) : ''));
  events.addEventListener('tick', (event) => {
    try {
      const tick = JSON.parse((event as MessageEvent<string>).data) as Tick;
      serviceClock.nowMs = tick.nowMs;
      setLive('live', utc(tick.nowMs));
    } catch {
      setLive('live');
    }
    void refresh();
  });
  // EventSource reconnects by itself; only a closed source needs a new one.
  events.addEventListener('error', () => {
    setLive('offline');
    if (events.readyState === EventSource.CLOSED) setTimeout(connect, 5000);
  });
}

router.refresh = () => void refresh(true);
document.getElementById('skip')!.addEventListener('click', (event) => {
  event.preventDefault();
  main.focus();
});
window.addEventListener('hashchange', () => {
  const next = parseRoute(location.hash);
  if (!next) return;
  mount(next);
  // A new view: focus its content, so the keyboard and screen readers start there (Tab reaches its first control).
  main.focus();
});
setInterval(() => {
  if (live.dataset.state !== 'live') void refresh();
}, POLL_WITHOUT_EVENTS_MS);

const first = parseRoute(location.hash);
if (!first) history.replaceState(null, '', '#/network');
mount(first ?? { name: 'network', parts: [] });
connect();
