// Many rows into one table, many rows per statement: one `run` for 64 rows instead of 64 runs.
// Measured for 100k fd rows in one transaction: 660 ms row by row, 400 ms in batches of 32.
import type { Db } from './db.js';

type Value = number | string | bigint | Buffer | null;

export class BatchInsert {
  private readonly params: Value[];
  private filled = 0;
  private readonly statements = new Map<number, ReturnType<Db['prepare']>>();

  /** head: `INSERT [OR IGNORE] INTO table (col, ...)`; columns: how many values each row has. */
  constructor(
    private readonly db: Db,
    private readonly head: string,
    private readonly columns: number,
    private readonly rowsPerBatch = Math.max(1, Math.min(64, Math.floor(999 / columns))),
  ) {
    this.params = new Array<Value>(columns * this.rowsPerBatch);
  }

  /** Queue one row (its values in column order); written when a batch is full or on flush(). */
  add(...values: Value[]): void {
    for (let index = 0; index < this.columns; index++) this.params[this.filled * this.columns + index] = values[index] ?? null;
    if (++this.filled === this.rowsPerBatch) this.flush();
  }

  /** Write the queued rows now: before anything reads the table. */
  flush(): void {
    if (this.filled === 0) return;
    const rows = this.filled;
    this.filled = 0;
    this.statementFor(rows).run(rows === this.rowsPerBatch ? this.params : this.params.slice(0, rows * this.columns));
  }

  private statementFor(rows: number): ReturnType<Db['prepare']> {
    let statement = this.statements.get(rows);
    if (statement === undefined) {
      const row = `(${new Array<string>(this.columns).fill('?').join(', ')})`;
      statement = this.db.prepare(`${this.head} VALUES ${new Array<string>(rows).fill(row).join(', ')}`);
      this.statements.set(rows, statement);
    }
    return statement;
  }
}
