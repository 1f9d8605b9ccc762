/**
 * Backup view (`#/backup`): each dataset's replicas — the age of the newest verified copy against the RPO, when it
 * was verified, bytes kept and moved, the copy running or planned next, and the backup loop's problems — and each
 * link's load now split into backup copies and job input. Needs a key: a tenant sees its own datasets, an operator
 * every tenant's. Data: `GET /v1/backup/datasets`, `GET /v1/backup/datasets/:id`, `GET /v1/dashboard/network`.
 */
import { api, currentSession } from '../api.ts';
import { count, fill, h, message, num, table, utc } from '../dom.ts';
import { loginForm } from '../login.ts';
import type { View } from '../view.ts';

const MB = 1e6;

export function backupView(root: HTMLElement, rerender: () => void): View {
  const session = currentSession();
  if (!session) {
    fill(root, h('h1', null, 'Backup'), h('p', null, 'Datasets and their replicas need an API key.'), loginForm(rerender));
    return { refresh: async () => {}, dispose: () => {} };
  }
  const note = h('p', { role: 'status', class: 'muted' });
  const replicasBox = h('div');
  const problemsBox = h('div');
  const linksBox = h('div');
  fill(
    root,
    h('h1', null, 'Backup'),
    h('p', { class: 'muted' }, session.role === 'operator' ? 'Every tenant’s datasets (operator key).' : `Datasets of ${session.name}.`),
    note,
    replicasBox,
    problemsBox,
    h('h2', null, 'Link load now'),
    linksBox,
  );
  return {
    async refresh() {
      try {
        const { datasets } = await api.backupDatasets();
        const views = await Promise.all(datasets.map((d) => api.backupDataset(d.id, session.role === 'operator' ? d.tenant : undefined)));
        message(note, count(datasets.length, 'dataset'));
        const rows = views.flatMap((v) =>
          v.replicas.map((r) => {
            const running = v.loop?.copying.find((c) => c.target === r.site);
            const next = v.loop?.nextCopies.find((c) => c.target === r.site);
            const age = r.ageHours === null ? 'no copy yet' : `${num(r.ageHours, 1)} h`;
            return [
              `${v.tenant}/${v.id}`,
              r.site,
              h('span', { class: r.withinRpo ? 'badge s-succeeded' : 'badge s-failed' }, r.withinRpo ? 'within RPO' : 'past RPO'),
              age,
              `${num(r.rpoHours, 0)} h`,
              r.verifiedAt ? utc(r.verifiedAt) : '–',
              num(r.bytes / MB, 1),
              num(r.bytesMoved / MB, 1),
              running ? `${running.kind} ${running.route.join(' → ')}: ${num(running.bytes / MB, 1)} of ${num(running.totalBytes / MB, 1)} MB` : next ? `next ${utc(next.start)} over ${next.route.join(' → ')}` : '–',
            ];
          }),
        );
        fill(
          replicasBox,
          table('Replicas: the newest verified copy against the RPO', ['Dataset', 'Replica at', 'Status', 'Age', 'RPO', 'Verified', 'Copy MB', 'Moved MB', 'Copy'], rows, { numeric: [6, 7], empty: 'No datasets yet: POST /v1/backup/datasets (docs/backup.md).' }),
        );
        const problems = views.flatMap((v) => (v.loop?.problems ?? []).map((p) => `${v.tenant}/${v.id}: ${p}`));
        fill(problemsBox, problems.length === 0 ? [] : [h('h2', null, 'Problems'), h('ul', null, ...problems.map((p) => h('li', null, p)))]);
        const net = await api.network();
        const names = new Map(net.sites.map((s) => [s.id, s.name]));
        fill(
          linksBox,
          table(
            'Link load now: backup copies and job input',
            ['From', 'To', 'Bandwidth Gbit/s', 'Backup Gbit/s', 'Job input Gbit/s'],
            net.links.map((l) => [names.get(l.from) ?? l.from, names.get(l.to) ?? l.to, num(l.bandwidthGbps, 0), num(l.backupGbps, 3), num(l.loadGbps, 3)]),
            { numeric: [2, 3, 4] },
          ),
        );
      } catch (err) {
        message(note, `Cannot show backups: ${err instanceof Error ? err.message : String(err)}`, 'error');
      }
    },
    dispose: () => {},
  };
}
