import { h } from '../dom.js';
import type { Act, Api } from './api.js';
import { ingestTaskCells } from './format.js';
import type { Ingest } from './model.js';

const TASK_HEADERS = ['Task', 'Streams', 'Capacity', 'CPU', 'GPU'] as const;

/** Ingest capacity: totals, one row per reporting task, and (on AWS) the ECS service with a scale form. */
export function renderIngest(box: HTMLElement, ingest: Ingest, api: Api, act: Act): void {
  const service = ingest.service;
  const kpi = (value: string, label: string) =>
    h('div', { className: 'kpi' }, h('b', {}, value), h('span', {}, label));
  box.replaceChildren(
    h(
      'div',
      { className: 'kpis' },
      kpi(`${ingest.totals.streams} / ${ingest.totals.capacity}`, 'streams / capacity'),
      kpi(String(ingest.tasks.length), 'tasks reporting'),
      ...(service ? [kpi(`${service.runningCount} / ${service.desiredCount}`, 'ECS running / desired')] : []),
    ),
    h(
      'table',
      {},
      h('thead', {}, h('tr', {}, ...TASK_HEADERS.map((t) => h('th', {}, t)))),
      h(
        'tbody',
        {},
        ...ingest.tasks.map((t) => h('tr', {}, ...ingestTaskCells(t).map((cell) => h('td', {}, cell)))),
      ),
    ),
    scaleForm(ingest.service, api, act),
  );
}

/** The desired task count, within the service's bounds; an empty form without an ECS service. */
function scaleForm(service: Ingest['service'], api: Api, act: Act): HTMLFormElement {
  const scale = h('form', { className: 'inline' });
  if (!service) return scale;
  const count = h('input', {
    type: 'number',
    min: String(service.minTasks),
    max: String(service.maxTasks),
    value: String(service.desiredCount),
  });
  count.style.width = '80px';
  scale.append(
    h('span', { className: 'muted' }, `Tasks (${service.minTasks}–${service.maxTasks})`),
    count,
    h('button', { type: 'submit' }, 'Scale'),
  );
  scale.addEventListener('submit', (event) => {
    event.preventDefault();
    void act(async () => void (await api('PUT', '/ingest/scale', { desiredCount: Number(count.value) })));
  });
  return scale;
}
