/**
 * A binary min-heap of simulation events ordered by (time, priority, sequence): equal times break by
 * priority (finishes before arrivals before re-planning), then by insertion order, so a run is
 * reproducible. Used by the simulator's main loop.
 */
export interface HeapEntry<T> {
  timeMs: number;
  priority: number;
  seq: number;
  value: T;
}

export class EventHeap<T> {
  private readonly items: HeapEntry<T>[] = [];
  private nextSeq = 0;

  get size(): number {
    return this.items.length;
  }

  push(timeMs: number, priority: number, value: T): void {
    const items = this.items;
    items.push({ timeMs, priority, seq: this.nextSeq++, value });
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(items[i], items[parent])) break;
      [items[i], items[parent]] = [items[parent], items[i]];
      i = parent;
    }
  }

  pop(): HeapEntry<T> | undefined {
    const items = this.items;
    if (items.length === 0) return undefined;
    const top = items[0];
    const last = items.pop()!;
    if (items.length > 0) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && before(items[l], items[m])) m = l;
        if (r < items.length && before(items[r], items[m])) m = r;
        if (m === i) break;
        [items[i], items[m]] = [items[m], items[i]];
        i = m;
      }
    }
    return top;
  }

  peek(): HeapEntry<T> | undefined {
    return this.items[0];
  }
}

function before<T>(a: HeapEntry<T>, b: HeapEntry<T>): boolean {
  return a.timeMs !== b.timeMs ? a.timeMs < b.timeMs : a.priority !== b.priority ? a.priority < b.priority : a.seq < b.seq;
}
