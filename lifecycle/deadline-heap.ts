// A binary min-heap of (deadline, slot, generation) in typed arrays: the eviction schedule
// of the token table. Entries go stale when a slot is reused (its generation moves on) or
// its deadline moves; the store checks both when it pops, so no decrease-key is needed.

export class DeadlineHeap {
  deadlines = new Float64Array(1024);
  slots = new Int32Array(1024);
  gens = new Uint32Array(1024);
  size = 0;

  push(deadline: number, slot: number, gen: number): void {
    if (this.size === this.deadlines.length) this.grow();
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.deadlines[parent]! <= deadline) break;
      this.move(parent, i);
      i = parent;
    }
    this.deadlines[i] = deadline;
    this.slots[i] = slot;
    this.gens[i] = gen;
  }

  peekDeadline(): number {
    return this.size > 0 ? this.deadlines[0]! : Infinity;
  }

  pop(): { deadline: number; slot: number; gen: number } {
    const top = { deadline: this.deadlines[0]!, slot: this.slots[0]!, gen: this.gens[0]! };
    const last = --this.size;
    const d = this.deadlines[last]!;
    const s = this.slots[last]!;
    const g = this.gens[last]!;
    if (last > 0) {
      let i = 0;
      for (;;) {
        let child = 2 * i + 1;
        if (child >= last) break;
        if (child + 1 < last && this.deadlines[child + 1]! < this.deadlines[child]!) child++;
        if (this.deadlines[child]! >= d) break;
        this.move(child, i);
        i = child;
      }
      this.deadlines[i] = d;
      this.slots[i] = s;
      this.gens[i] = g;
    }
    return top;
  }

  private move(from: number, to: number): void {
    this.deadlines[to] = this.deadlines[from]!;
    this.slots[to] = this.slots[from]!;
    this.gens[to] = this.gens[from]!;
  }

  private grow(): void {
    const d = new Float64Array(this.deadlines.length * 2);
    d.set(this.deadlines);
    const s = new Int32Array(this.slots.length * 2);
    s.set(this.slots);
    const g = new Uint32Array(this.gens.length * 2);
    g.set(this.gens);
    this.deadlines = d;
    this.slots = s;
    this.gens = g;
  }
}
