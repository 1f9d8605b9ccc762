import { describe, expect, it } from 'vitest';
import { renderReportHtml } from '../../src/sim/report-html.ts';
import type { SimReport } from '../../src/sim/report.ts';
import { savingOf, smallReport } from './fixtures/small-report.ts';

/** The text of the table row whose header cell is `label`, cells joined by `|`. */
function row(html: string, label: string): string {
  const m = html.match(new RegExp(`<tr><th scope="row">${label}</th>(.*?)</tr>`));
  if (!m) throw new Error(`no row ${label}`);
  return [...m[1].matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((c) => c[1]).join('|');
}

/** The small report with three more policies (copies of the first under other names): more than the page details. */
function fivePolicies(): SimReport {
  const r = smallReport();
  const extra = ['a', 'b', 'c'].map((n) => ({ ...r.policies[0], policy: `copy-${n}` }));
  const policies = [...r.policies, ...extra];
  return { ...r, policies, savings: policies.flatMap((a) => policies.filter((b) => b !== a).map((b) => savingOf(a, b))) };
}

describe('renderReportHtml', () => {
  const html = renderReportHtml(smallReport());

  it('is a complete HTML page with the header settings', () => {
    expect(html.startsWith('<!DOCTYPE html>\n<html lang="en">')).toBe(true);
    expect(html).toContain('<h1>Kumul simulation report: hami</h1>');
    expect(html).toContain('<dt>Period (UTC)</dt><dd>2026-06-01 00:00 to 2026-06-02 00:00</dd>');
    expect(html).toContain('<dt>Slot (min)</dt><dd>60</dd>');
    expect(html).toContain('<dt>Forecast error (σ, % of mean)</dt><dd>10</dd>');
    expect(html).toContain('<dt>Seed</dt><dd>42</dd>');
    expect(html).toContain('<dt>Jobs in the period</dt><dd>120</dd>');
    expect(html).not.toContain('Temporal shift');
    expect(renderReportHtml(smallReport({ shiftHours: 12 }))).toContain('<dt>Temporal shift allowed (± h)</dt><dd>12</dd>');
  });

  it('shows the headline figures of each policy with units and thousands separators', () => {
    expect(row(html, 'Energy \\(kWh\\)')).toBe('2,500|2,750');
    expect(row(html, 'Green energy \\(kWh\\)')).toBe('1,480|1,130');
    expect(row(html, 'Green share \\(%\\)')).toBe('59.2|41.1');
    expect(row(html, 'Cost \\(yuan\\)')).toBe('616|1,163');
    expect(row(html, 'Carbon \\(kg CO2\\)')).toBe('741|1,269');
    expect(row(html, 'Data transferred \\(GB\\)')).toBe('1,235|0');
    expect(row(html, 'Jobs completed')).toBe('110|105');
    expect(row(html, 'Jobs that missed their deadline')).toBe('4|9');
    expect(row(html, 'Jobs unfinished at the end')).toBe('6|6');
    expect(row(html, 'Mean wait before first start \\(h\\)')).toBe('1.50|0.03');
    expect(row(html, 'Jobs paused and resumed')).toBe('12|0');
  });

  it('shows each saving with an explicit sign', () => {
    expect(row(html, 'optimize')).toBe('asap-origin|\u221247.0|\u221241.6|\u22129.1|+18.1|105');
    expect(row(html, 'asap-origin')).toBe('optimize|+88.8|+71.3|+10.0|\u221218.1|105');
  });

  it('has per-site, per-pool and per-link tables', () => {
    expect(html).toContain('<caption>Sites under optimize</caption>');
    expect(row(html, 'zhengzhou')).toBe('800|80|10.0|520|561|36.2');
    expect(html).toContain('<caption>Pools under asap-origin</caption>');
    expect(html).toContain('<caption>Data moved over each link under optimize</caption>');
    expect(html).toContain('<tr><th scope="row">hami</th><td>zhengzhou</td><td class="num">1,235</td></tr>');
    expect(html).toContain('<p>No input data moved between sites under asap-origin.</p>');
  });

  it('draws one accessible SVG per figure, with ids unique in the page', () => {
    const svgs = html.match(/<svg[^>]*>/g) ?? [];
    expect(svgs).toHaveLength(7); // cost, carbon, intensity, and energy mix + utilisation per policy
    expect((html.match(/<figure>/g) ?? []).length).toBe(svgs.length);
    expect((html.match(/<figcaption>/g) ?? []).length).toBe(svgs.length);
    for (const svg of svgs) expect(svg).toMatch(/^<svg role="img" aria-label="[^"]+" /);
    expect(svgs[0]).toContain('aria-label="Bar chart of cost (yuan) per policy: optimize 616; asap-origin 1,163."');
    const ids = [...html.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('is self-contained: no script, no external reference but the SVG namespace', () => {
    expect(html).not.toMatch(/<script/i);
    expect(html.replaceAll('xmlns="http://www.w3.org/2000/svg"', '')).not.toMatch(/https?:\/\//);
  });

  it('gives the same bytes for the same report', () => {
    expect(renderReportHtml(smallReport())).toBe(html);
  });

  it('scales a site\'s energy axis to the energy used when renewable available would flatten it, and says so', () => {
    const r = smallReport();
    for (const p of r.policies) p.series.sites.hami.renewableKWh = p.series.sites.hami.renewableKWh.map((x) => x * 10);
    const page = renderReportHtml(r);
    expect(page).toContain('At hami, renewable available is far above the energy used: the axis follows the energy used');
    expect(html).not.toContain('renewable available is far above');
  });

  it('escapes names as text', () => {
    const page = renderReportHtml(smallReport({ sites: ['<b>', 'x"&y'] }));
    expect(page).not.toContain('<b>');
    expect(page).toContain('<th scope="row">&lt;b&gt;</th>');
    expect(page).toContain('x&quot;&amp;y');
    expect(page).not.toContain('x"&y');
  });

  it('with many policies details the first and draws the others as differences, keeping the charts few', () => {
    const page = renderReportHtml(fivePolicies());
    expect(page).toContain('<h2>Differences from optimize</h2>');
    expect((page.match(/<svg/g) ?? []).length).toBe(7); // cost, carbon, intensity, 2 differences, first policy's 2
    expect(page).toContain('<h2>Policy copy-c</h2>');
    expect(page).not.toContain('Differences from'.repeat(2));
  });
});
