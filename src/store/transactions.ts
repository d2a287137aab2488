// Synchronous transactions on one connection, shared by both stores: the outermost call begins
// (with the dialect's own statement), nested calls become savepoints, and a callback that returns a
// promise is refused, since the transaction would commit before the awaited work ran.
import type { SqlDatabase } from "./sql/database.ts";

export class Transactions {
  private depth = 0;

  /** `begin` is the statements that open an outermost transaction. */
  constructor(private readonly db: SqlDatabase, private readonly begin: string) {}

  run<T>(fn: () => T): T {
    const savepoint = `sp${this.depth}`;
    this.db.exec(this.depth === 0 ? this.begin : `SAVEPOINT ${savepoint}`);
    this.depth++;
    let result: T;
    try {
      result = fn();
      if (result instanceof Promise) {
        result.catch(() => {});
        throw new TypeError("transaction callbacks must be synchronous");
      }
    } catch (e) {
      this.depth--;
      this.db.exec(
        this.depth === 0
          ? "ROLLBACK"
          : `ROLLBACK TO SAVEPOINT ${savepoint}; RELEASE SAVEPOINT ${savepoint}`,
      );
      throw e;
    }
    this.depth--;
    this.db.exec(this.depth === 0 ? "COMMIT" : `RELEASE SAVEPOINT ${savepoint}`);
    return result;
  }
}
