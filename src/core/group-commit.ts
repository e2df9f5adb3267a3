/**
 * Group commit: items submitted while a write is in flight are written together by the next one, so a
 * busy server pays one transaction per burst instead of one per item, and each caller's promise settles
 * only once its item is durable. Used by the audit trail and by async listener intake.
 */
interface Pending<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (err: unknown) => void;
}

export interface GroupCommitOptions {
  /**
   * When a group fails: `all` fails every item in it (the items stand or fall together); `each` writes
   * the items again one by one, so one bad item does not fail its neighbours.
   */
  onFailure: 'all' | 'each';
  /** Told when a whole group failed, before the items are settled. */
  report?: (err: unknown, size: number) => void;
}

export class GroupCommit<T, R> {
  private pending: Pending<T, R>[] = [];
  private flushing: Promise<void> | undefined;

  /** `write` stores the items in one transaction and returns one result per item, in order. */
  constructor(
    private readonly write: (items: T[]) => Promise<R[]>,
    private readonly options: GroupCommitOptions,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      this.flushing ??= this.flushLoop();
    });
  }

  /** Waits until everything submitted so far is written. */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const group = this.pending;
        this.pending = [];
        await this.flush(group);
      }
    } finally {
      this.flushing = undefined;
    }
  }

  private async flush(group: Pending<T, R>[]): Promise<void> {
    let results: R[];
    try {
      results = await this.write(group.map((p) => p.item));
    } catch (err) {
      this.options.report?.(err, group.length);
      if (this.options.onFailure === 'all' || group.length === 1) {
        for (const p of group) p.reject(err);
        return;
      }
      for (const p of group) await this.flush([p]);
      return;
    }
    group.forEach((p, i) => {
      p.resolve(results[i] as R);
    });
  }
}
