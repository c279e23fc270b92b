/**
 * The text a run writes (a child's stdout, a logger's lines), awaitable: `printed(pattern, ended)` resolves with
 * the first match once the text holds it, and rejects (with the text so far) if `ended` settles first, so a
 * line that never comes fails the test with what was written instead of hanging it.
 */
export class OutputWatch {
  private text = '';
  private readonly looks = new Set<() => void>();

  add(chunk: string): void {
    this.text += chunk;
    this.looks.forEach((look) => look());
  }

  printed(pattern: RegExp, ended: Promise<unknown>): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const look = () => {
        const match = pattern.exec(this.text);
        if (!match) return;
        this.looks.delete(look);
        resolve(match);
      };
      this.looks.add(look);
      look();
      const missing = (how: string) => {
        look();
        reject(new Error(`never wrote ${pattern}; ${how}; it wrote:\n${this.text}`));
      };
      ended.then(
        () => missing('it ended'),
        (err: Error) => missing(`it failed: ${err.message}`),
      );
    });
  }
}
