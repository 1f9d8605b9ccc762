/** Small DOM helpers: elements built with text nodes (never HTML from data), tables, number formats. */

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | ((event: Event) => void)>;

/** `h('a', { href: '#/x' }, 'text')`: attributes (`on…` become listeners; false/null/undefined are left out) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs | null = null, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === false || value === null || value === undefined) continue;
    if (typeof value === 'function') el.addEventListener(name.slice(2).toLowerCase(), value);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

function append(el: Node, children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

/** Text made safe to put inside HTML (echarts renders tooltips as HTML): `&<>"'` as character references. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Replaces an element's children. */
export function fill(el: Element, ...children: (Child | Child[])[]): void {
  el.replaceChildren();
  append(el, children);
}

/** A table in a scrollable region that the keyboard can reach (tabindex) and screen readers can name. */
export function table(caption: string, headers: string[], rows: Child[][], options: { numeric?: number[]; empty?: string } = {}): HTMLElement {
  const numeric = new Set(options.numeric ?? []);
  const body = rows.length
    ? rows.map((row) => h('tr', null, row.map((cell, i) => h('td', { class: numeric.has(i) ? 'num' : null }, cell))))
    : [h('tr', null, h('td', { colspan: headers.length, class: 'empty' }, options.empty ?? 'Nothing yet.'))];
  return h(
    'div',
    { class: 'table-wrap', role: 'region', 'aria-label': caption, tabindex: 0 },
    h('table', null, h('caption', null, caption), h('thead', null, h('tr', null, headers.map((t, i) => h('th', { scope: 'col', class: numeric.has(i) ? 'num' : null }, t)))), h('tbody', null, body)),
  );
}

/** A labelled form control: `<label for=id>text</label>` then the control (given the id). */
export function field(label: string, control: HTMLInputElement | HTMLSelectElement, hint?: string): HTMLElement {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  const hintEl = hint ? h('small', { id: `${id}-hint`, class: 'hint' }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  if (control instanceof HTMLInputElement && control.type === 'checkbox') return h('div', { class: 'field check' }, control, h('label', { for: id }, label), hintEl);
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hintEl);
}

export function select(name: string, options: [value: string, text: string][], value = ''): HTMLSelectElement {
  const el = h('select', { name }, options.map(([v, t]) => h('option', { value: v }, t)));
  el.value = value;
  return el;
}

/** A number with `digits` decimals and thin grouping, or an en dash for null. */
export function num(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  return value.toLocaleString('en-GB', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** An amount with as many decimals as its size needs: 1234, 12.3, 0.42, 0.013. */
export function amount(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  const size = Math.abs(value);
  return num(value, size >= 100 || size === 0 ? 0 : size >= 10 ? 1 : size >= 0.1 ? 2 : 3);
}

/** `1 job`, `2 jobs`. */
export function count(n: number, noun: string, more = false): string {
  return `${n}${more ? '+' : ''} ${noun}${n === 1 && !more ? '' : 's'}`;
}

/** A share 0..1 as a percentage. */
export function pct(share: number | null | undefined, digits = 0): string {
  return share === null || share === undefined || !Number.isFinite(share) ? '–' : `${num(share * 100, digits)} %`;
}

/** A UTC instant (epoch ms or ISO) as `2026-06-01 03:00 UTC`. */
export function utc(at: number | string): string {
  const ms = typeof at === 'number' ? at : Date.parse(at);
  return Number.isFinite(ms) ? `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC` : '–';
}

/** Seconds as `1 h 30 min`. */
export function duration(seconds: number): string {
  const minutes = Math.round(seconds / 60);
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return hours && rest ? `${hours} h ${rest} min` : hours ? `${hours} h` : `${rest} min`;
}

/** A status region for messages (errors are announced); left alone when it already says this, so live refreshes do not repeat it to screen readers. */
export function message(el: Element, text: string, kind: 'info' | 'error' | 'ok' = 'info'): void {
  if (el.className === `message ${kind}` && el.textContent === text) return;
  el.className = `message ${kind}`;
  el.textContent = text;
}
