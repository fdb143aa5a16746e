;; Matches one JSON log line against a learned shape at memory speed (see ingest/json-shapes.ts),
;; and interns its recurring string values: the bytes of each value are looked up in a table of
;; values kept before, so a value seen on earlier lines comes back as the id of one kept string
;; instead of a new substring; and it reads the numbers that need no rounding. Input: the line's
;; UTF-8 bytes at 0. Output, per value: its start and end byte offsets, its JSON type, its intern
;; id and, for a number, its value. Built into json-scan.wasm.ts by
;; `npm run wasm`; a test holds the two to each other.
(module
  (memory (export "memory") 25)

  ;; Memory layout. A line is at most LINE_CAP - 1 bytes; 16 bytes of slack after every region
  ;; let the 16-byte loads read past a value's end. The two loads of a literal compare may read
  ;; into the next literal (masked off), and 64 bytes past PROGRAMS_END keep them in memory.
  (global (export "LINE_CAP") i32 (i32.const 65536))
  (global $OUT (export "OUT") i32 (i32.const 65600))         ;; 256 values x (start, end, type, id)
  (global $FRESH (export "FRESH") i32 (i32.const 69760))     ;; indexes of values interned by this line
  (global $NUMBERS (export "NUMBERS") i32 (i32.const 70784))  ;; 256 values x f64
  (global $POW10 i32 (i32.const 72832))                      ;; 1e0 .. 1e15, exact
  (global $TABLE i32 (i32.const 73728))                      ;; BUCKETS x 2 ways x (offset, length, id)
  (global $BUCKETS i32 (i32.const 8192))
  (global $ARENA i32 (i32.const 270336))                     ;; bytes of the kept values
  (global $ARENA_SIZE i32 (i32.const 1048576))
  (global (export "PROGRAMS") i32 (i32.const 1318928))       ;; shape programs, written by the caller
  (global (export "PROGRAMS_END") i32 (i32.const 1638336))
  (global $MAX_IDS (export "MAX_IDS") i32 (i32.const 65536))
  (global $MAX_INTERNED i32 (i32.const 1024))                ;; longest value interned, bytes

  (global $used (mut i32) (i32.const 0))
  (global $ids (mut i32) (i32.const 0))
  (global $full (mut i32) (i32.const 0))

  ;; Forgets every kept value (their ids start again at 0).
  (func $reset (export "reset")
    (local $k i32) (local $p f64)
    (local.set $p (f64.const 1))
    (loop $pow
      (f64.store (i32.add (global.get $POW10) (i32.shl (local.get $k) (i32.const 3))) (local.get $p))
      (local.set $p (f64.mul (local.get $p) (f64.const 10)))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $pow (i32.le_u (local.get $k) (i32.const 15))))
    (memory.fill (global.get $TABLE) (i32.const 0xff) (i32.mul (global.get $BUCKETS) (i32.const 24)))
    (global.set $used (i32.const 0))
    (global.set $ids (i32.const 0))
    (global.set $full (i32.const 0)))

  ;; First byte at or after $p that ends a JSON string's plain text: a quote, a backslash or a
  ;; control character. match() puts a NUL after the line, so the scan stops there at the latest.
  (func $stop (param $p i32) (result i32)
    (local $v v128) (local $m i32)
    (loop $l
      (local.set $v (v128.load align=1 (local.get $p)))
      (local.set $m (i8x16.bitmask (v128.or (v128.or
        (i8x16.eq (local.get $v) (i8x16.splat (i32.const 34)))
        (i8x16.eq (local.get $v) (i8x16.splat (i32.const 92))))
        (i8x16.lt_u (local.get $v) (i8x16.splat (i32.const 32))))))
      (if (i32.eqz (local.get $m)) (then
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $l))))
    (i32.add (local.get $p) (i32.ctz (local.get $m))))

  ;; Whether the $n bytes at $p equal those at $o.
  (func $same (param $p i32) (param $o i32) (param $n i32) (result i32)
    (local $mask i32)
    (block $tail (loop $l
      (br_if $tail (i32.lt_u (local.get $n) (i32.const 16)))
      (if (i32.ne (i8x16.bitmask (i8x16.eq (v128.load align=1 (local.get $p)) (v128.load align=1 (local.get $o)))) (i32.const 0xffff))
        (then (return (i32.const 0))))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (local.set $o (i32.add (local.get $o) (i32.const 16)))
      (local.set $n (i32.sub (local.get $n) (i32.const 16)))
      (br $l)))
    (local.set $mask (i32.sub (i32.shl (i32.const 1) (local.get $n)) (i32.const 1)))
    (i32.eq (i32.and (i8x16.bitmask (i8x16.eq (v128.load align=1 (local.get $p)) (v128.load align=1 (local.get $o)))) (local.get $mask)) (local.get $mask)))

  (func $digit (param $p i32) (result i32)
    (i32.lt_u (i32.sub (i32.load8_u (local.get $p)) (i32.const 48)) (i32.const 10)))

  ;; Past the digits at $p, at least one; -1 when there is none.
  (func $digits (param $p i32) (result i32)
    (if (i32.eqz (call $digit (local.get $p))) (then (return (i32.const -1))))
    (loop $d
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br_if $d (call $digit (local.get $p))))
    (local.get $p))

  ;; End of the JSON number (RFC 8259 section 6) at $p, or -1.
  (func $number (param $p i32) (result i32)
    (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 45)) (then (local.set $p (i32.add (local.get $p) (i32.const 1)))))
    (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 48))
      (then (local.set $p (i32.add (local.get $p) (i32.const 1))))
      (else
        (local.set $p (call $digits (local.get $p)))
        (if (i32.lt_s (local.get $p) (i32.const 0)) (then (return (i32.const -1))))))
    (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 46)) (then
      (local.set $p (call $digits (i32.add (local.get $p) (i32.const 1))))
      (if (i32.lt_s (local.get $p) (i32.const 0)) (then (return (i32.const -1))))))
    ;; e or E: the byte with its case bit set.
    (if (i32.eq (i32.or (i32.load8_u (local.get $p)) (i32.const 32)) (i32.const 101)) (then
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (if (i32.or (i32.eq (i32.load8_u (local.get $p)) (i32.const 43)) (i32.eq (i32.load8_u (local.get $p)) (i32.const 45)))
        (then (local.set $p (i32.add (local.get $p) (i32.const 1)))))
      (local.set $p (call $digits (local.get $p)))))
    (local.get $p))

  ;; Whether the last string $scalar read held an escape (its value is then for JSON.parse to read).
  (global $escaped (mut i32) (i32.const 0))

  ;; End of the JSON scalar at $p (string, number, true, false, null), or -1.
  (func $scalar (param $p i32) (result i32)
    (local $c i32)
    (local.set $c (i32.load8_u (local.get $p)))
    (if (i32.eq (local.get $c) (i32.const 34)) (then
      (global.set $escaped (i32.const 0))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (loop $plain
        (local.set $p (call $stop (local.get $p)))
        (local.set $c (i32.load8_u (local.get $p)))
        (if (i32.eq (local.get $c) (i32.const 34)) (then (return (i32.add (local.get $p) (i32.const 1)))))
        ;; A backslash and the byte after it, whatever it is: JSON.parse checks the escape when it
        ;; reads the value. The NUL match() writes after the line ends it unescaped.
        (if (i32.and (i32.eq (local.get $c) (i32.const 92)) (i32.ne (i32.load8_u offset=1 (local.get $p)) (i32.const 0))) (then
          (global.set $escaped (i32.const 1))
          (local.set $p (i32.add (local.get $p) (i32.const 2)))
          (br $plain))))
      ;; A control character, or the end of the line.
      (return (i32.const -1))))
    ;; "true", "null" and "alse" as little-endian words.
    (if (i32.eq (local.get $c) (i32.const 116)) (then
      (return (select (i32.add (local.get $p) (i32.const 4)) (i32.const -1) (i32.eq (i32.load align=1 (local.get $p)) (i32.const 0x65757274))))))
    (if (i32.eq (local.get $c) (i32.const 110)) (then
      (return (select (i32.add (local.get $p) (i32.const 4)) (i32.const -1) (i32.eq (i32.load align=1 (local.get $p)) (i32.const 0x6c6c756e))))))
    (if (i32.eq (local.get $c) (i32.const 102)) (then
      (return (select (i32.add (local.get $p) (i32.const 5)) (i32.const -1) (i32.eq (i32.load align=1 (i32.add (local.get $p) (i32.const 1))) (i32.const 0x65736c61))))))
    (call $number (local.get $p)))

  ;; End of the array at $p (past its `]`), or -1: brackets balanced, strings skipped. What it
  ;; holds (scalars, objects, arrays) is for JSON.parse to read, and check, as one value.
  (func $array (param $p i32) (result i32)
    (local $c i32) (local $depth i32)
    (loop $l
      (local.set $c (i32.load8_u (local.get $p)))
      (if (i32.eq (local.get $c) (i32.const 34)) (then
        (local.set $p (call $scalar (local.get $p)))
        (br_if $l (i32.ge_s (local.get $p) (i32.const 0)))
        (return (i32.const -1))))
      ;; The NUL after the line: the array never closed.
      (if (i32.eqz (local.get $c)) (then (return (i32.const -1))))
      ;; [ and { are 0x5b and 0x7b, ] and } 0x5d and 0x7d: the same bits once 0x20 is set.
      (local.set $c (i32.or (local.get $c) (i32.const 32)))
      (if (i32.eq (local.get $c) (i32.const 123)) (then (local.set $depth (i32.add (local.get $depth) (i32.const 1)))))
      (if (i32.eq (local.get $c) (i32.const 125)) (then
        (local.set $depth (i32.sub (local.get $depth) (i32.const 1)))
        (if (i32.eqz (local.get $depth)) (then (return (i32.add (local.get $p) (i32.const 1)))))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $l))
    (i32.const -1))

  ;; A hash of the $n bytes at $s from their length and three 8-byte words (first, middle, last):
  ;; a fixed cost whatever the length. Values that share those words only share a bucket; a hit
  ;; must still equal the value byte for byte.
  (func $hash (param $s i32) (param $n i32) (result i32)
    (local $h i64)
    (if (i32.ge_u (local.get $n) (i32.const 8))
      (then
        (local.set $h (i64.xor
          (i64.mul (i64.load align=1 (local.get $s)) (i64.const 0x9e3779b97f4a7c15))
          (i64.rotl (i64.mul (i64.load align=1 (i32.sub (i32.add (local.get $s) (local.get $n)) (i32.const 8))) (i64.const 0xc2b2ae3d27d4eb4f)) (i64.const 31))))
        (local.set $h (i64.xor (local.get $h)
          (i64.mul (i64.load align=1 (i32.add (local.get $s) (i32.shr_u (i32.sub (local.get $n) (i32.const 8)) (i32.const 1)))) (i64.const 0x165667b19e3779f9)))))
      (else
        (local.set $h (i64.mul
          (i64.and (i64.load align=1 (local.get $s)) (i64.sub (i64.shl (i64.const 1) (i64.extend_i32_u (i32.shl (local.get $n) (i32.const 3)))) (i64.const 1)))
          (i64.const 0x9e3779b97f4a7c15)))))
    (local.set $h (i64.xor (local.get $h) (i64.mul (i64.extend_i32_u (local.get $n)) (i64.const 0x27d4eb2f165667c5))))
    (local.set $h (i64.mul (i64.xor (local.get $h) (i64.shr_u (local.get $h) (i64.const 29))) (i64.const 0xbf58476d1ce4e5b9)))
    (i32.wrap_i64 (i64.xor (local.get $h) (i64.shr_u (local.get $h) (i64.const 32)))))

  ;; The id of the kept value equal to the $n bytes at $s, keeping it when it is new (then $fresh
  ;; is set); -1 when the arena or the ids ran out (then $full is set, and the caller resets).
  ;; Each bucket holds the two values last used in it, the latest first.
  (global $fresh (mut i32) (i32.const 0))
  (func $intern (param $s i32) (param $n i32) (result i32)
    (local $e i32) (local $id i32) (local $off i32)
    (local.set $e (i32.add (global.get $TABLE)
      (i32.mul (i32.and (call $hash (local.get $s) (local.get $n)) (i32.sub (global.get $BUCKETS) (i32.const 1))) (i32.const 24))))
    ;; An empty way has length -1, so the byte comparison only ever reads a kept value.
    (if (i32.eq (i32.load offset=4 (local.get $e)) (local.get $n)) (then
      (if (call $same (i32.load (local.get $e)) (local.get $s) (local.get $n))
        (then (return (i32.load offset=8 (local.get $e)))))))
    (if (i32.eq (i32.load offset=16 (local.get $e)) (local.get $n)) (then
      (if (call $same (i32.load offset=12 (local.get $e)) (local.get $s) (local.get $n))
      (then
        (local.set $id (i32.load offset=20 (local.get $e)))
        (local.set $off (i32.load offset=12 (local.get $e)))
        ;; Swap the ways: the value just used goes first.
        (i64.store offset=12 (local.get $e) (i64.load (local.get $e)))
        (i32.store offset=20 (local.get $e) (i32.load offset=8 (local.get $e)))
        (i32.store (local.get $e) (local.get $off))
        (i32.store offset=4 (local.get $e) (local.get $n))
        (i32.store offset=8 (local.get $e) (local.get $id))
        (return (local.get $id))))))
    (if (i32.or (i32.gt_u (i32.add (global.get $used) (local.get $n)) (global.get $ARENA_SIZE)) (i32.ge_u (global.get $ids) (global.get $MAX_IDS)))
      (then (global.set $full (i32.const 1)) (return (i32.const -1))))
    (local.set $id (global.get $ids))
    (global.set $ids (i32.add (local.get $id) (i32.const 1)))
    (memory.copy (i32.add (global.get $ARENA) (global.get $used)) (local.get $s) (local.get $n))
    (i64.store offset=12 (local.get $e) (i64.load (local.get $e)))
    (i32.store offset=20 (local.get $e) (i32.load offset=8 (local.get $e)))
    (i32.store (local.get $e) (i32.add (global.get $ARENA) (global.get $used)))
    (i32.store offset=4 (local.get $e) (local.get $n))
    (i32.store offset=8 (local.get $e) (local.get $id))
    (global.set $used (i32.add (global.get $used) (local.get $n)))
    (global.set $fresh (i32.const 1))
    (local.get $id))

  ;; Whether the $len bytes at 0 are all ASCII (then they are valid UTF-8, one char each).
  (func (export "ascii") (param $len i32) (result i32)
    (local $p i32) (local $high v128)
    (block $tail (loop $l
      (br_if $tail (i32.gt_u (i32.add (local.get $p) (i32.const 16)) (local.get $len)))
      (local.set $high (v128.or (local.get $high) (v128.load align=1 (local.get $p))))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (br $l)))
    (i32.eqz (i32.or (i8x16.bitmask (local.get $high))
      (i32.and (i8x16.bitmask (v128.load align=1 (local.get $p)))
        (i32.sub (i32.shl (i32.const 1) (i32.sub (local.get $len) (local.get $p))) (i32.const 1))))))

  ;; The value of the JSON number from $p to $end, stored at $at, when it has no exponent and at
  ;; most 15 digits: then digits and power of ten are exact doubles, and their quotient is the
  ;; correctly rounded value JSON.parse reads (Clinger's fast path). 1 when stored, else 0.
  (func $numval (param $p i32) (param $end i32) (param $at i32) (result i32)
    (local $neg i32) (local $m i64) (local $digits i32) (local $fraction i32) (local $dot i32) (local $c i32) (local $v f64)
    (local.set $neg (i32.eq (i32.load8_u (local.get $p)) (i32.const 45)))
    (local.set $p (i32.add (local.get $p) (local.get $neg)))
    (block $read (loop $l
      (br_if $read (i32.ge_u (local.get $p) (local.get $end)))
      (local.set $c (i32.load8_u (local.get $p)))
      (if (i32.eq (local.get $c) (i32.const 46))
        (then (local.set $dot (i32.const 1)))
        (else
          (if (i32.ge_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 10)) (then (return (i32.const 0))))
          (local.set $m (i64.add (i64.mul (local.get $m) (i64.const 10)) (i64.extend_i32_u (i32.sub (local.get $c) (i32.const 48)))))
          (local.set $digits (i32.add (local.get $digits) (i32.const 1)))
          (local.set $fraction (i32.add (local.get $fraction) (local.get $dot)))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $l)))
    (if (i32.gt_u (local.get $digits) (i32.const 15)) (then (return (i32.const 0))))
    (local.set $v (f64.div (f64.convert_i64_u (local.get $m))
      (f64.load (i32.add (global.get $POW10) (i32.shl (local.get $fraction) (i32.const 3))))))
    (f64.store (local.get $at) (select (f64.neg (local.get $v)) (local.get $v) (local.get $neg)))
    (i32.const 1))

  ;; Matches the $len bytes at 0 against the shape program at $prog. Program, i32 words: the value
  ;; count n; per value the offset and length of the literal before it and its flags (allowed JSON
  ;; types: 1 string, 2 number, 4 boolean, 8 null, 16 array; 256: intern it when it is a string);
  ;; the offset and length of the closing literal. Writes per value at OUT its start and end (a
  ;; string's inside its quotes), its type (32 for a string holding an escape, never interned) and its intern id (-1: not interned; for a number, 1
  ;; when its value is at NUMBERS, else 0), and at FRESH the
  ;; indexes of the values this line interned first. Returns 0 when the line does not match (it
  ;; then interns nothing), else 1 + the count of FRESH indexes, plus 65536 when the intern table
  ;; is full.
  (func (export "match") (param $prog i32) (param $len i32) (result i32)
    (local $n i32) (local $i i32) (local $p i32) (local $c i32) (local $flags i32) (local $t i32)
    (local $end i32) (local $out i32) (local $fresh i32) (local $lit i32) (local $mask i32)
    (local.set $n (i32.load (local.get $prog)))
    (local.set $prog (i32.add (local.get $prog) (i32.const 4)))
    (local.set $out (global.get $OUT))
    (i32.store8 (local.get $len) (i32.const 0))
    (block $fail
      (block $done (loop $value
        (br_if $done (i32.eq (local.get $i) (local.get $n)))
        ;; The literal before the value; most are keys short enough for two 16-byte compares, here.
        (local.set $lit (i32.load offset=4 (local.get $prog)))
        (if (i32.le_u (local.get $lit) (i32.const 32))
          (then
            (local.set $c (i32.load (local.get $prog)))
            (local.set $mask (select (i32.const -1) (i32.sub (i32.shl (i32.const 1) (local.get $lit)) (i32.const 1)) (i32.eq (local.get $lit) (i32.const 32))))
            (br_if $fail (i32.ne (local.get $mask) (i32.and (local.get $mask) (i32.or
              (i8x16.bitmask (i8x16.eq (v128.load align=1 (local.get $p)) (v128.load align=1 (local.get $c))))
              (i32.shl (i8x16.bitmask (i8x16.eq (v128.load offset=16 align=1 (local.get $p)) (v128.load offset=16 align=1 (local.get $c)))) (i32.const 16)))))))
          (else (br_if $fail (i32.eqz (call $same (local.get $p) (i32.load (local.get $prog)) (local.get $lit))))))
        (local.set $p (i32.add (local.get $p) (local.get $lit)))
        (local.set $flags (i32.load offset=8 (local.get $prog)))
        (local.set $c (i32.load8_u (local.get $p)))
        (local.set $t
          (if (result i32) (i32.eq (local.get $c) (i32.const 34)) (then (i32.const 1))
          (else (if (result i32) (i32.eq (local.get $c) (i32.const 91)) (then (i32.const 16))
          (else (if (result i32) (i32.eq (local.get $c) (i32.const 110)) (then (i32.const 8))
          (else (if (result i32) (i32.or (i32.eq (local.get $c) (i32.const 116)) (i32.eq (local.get $c) (i32.const 102))) (then (i32.const 4))
          (else (i32.const 2))))))))))
        (br_if $fail (i32.eqz (i32.and (local.get $t) (local.get $flags))))
        (local.set $end (if (result i32) (i32.eq (local.get $t) (i32.const 16))
          (then (call $array (local.get $p))) (else (call $scalar (local.get $p)))))
        (br_if $fail (i32.lt_s (local.get $end) (i32.const 0)))
        (if (i32.eq (local.get $t) (i32.const 1))
          (then
            (i32.store (local.get $out) (i32.add (local.get $p) (i32.const 1)))
            (i32.store offset=4 (local.get $out) (i32.sub (local.get $end) (i32.const 1)))
            (local.set $t (select (i32.const 32) (i32.const 1) (global.get $escaped))))
          (else
            (i32.store (local.get $out) (local.get $p))
            (i32.store offset=4 (local.get $out) (local.get $end))))
        (i32.store offset=8 (local.get $out) (local.get $t))
        (i32.store offset=12 (local.get $out) (i32.const -1))
        (local.set $p (local.get $end))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $prog (i32.add (local.get $prog) (i32.const 12)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $value)))
      (br_if $fail (i32.eqz (call $same (local.get $p) (i32.load (local.get $prog)) (i32.load offset=4 (local.get $prog)))))
      (br_if $fail (i32.ne (i32.add (local.get $p) (i32.load offset=4 (local.get $prog))) (local.get $len)))
      ;; A match: intern its strings and read its numbers (a line that fails interns nothing).
      (local.set $prog (i32.sub (local.get $prog) (i32.mul (local.get $n) (i32.const 12))))
      (local.set $out (global.get $OUT))
      (local.set $i (i32.const 0))
      (block $interned (loop $each
        (br_if $interned (i32.eq (local.get $i) (local.get $n)))
        (local.set $p (i32.load (local.get $out)))
        (local.set $end (i32.sub (i32.load offset=4 (local.get $out)) (local.get $p)))
        (if (i32.and
              (i32.and (i32.ne (i32.and (i32.load offset=8 (local.get $prog)) (i32.const 256)) (i32.const 0)) (i32.eq (i32.load offset=8 (local.get $out)) (i32.const 1)))
              ;; The empty string needs no kept copy.
              (i32.le_u (i32.sub (local.get $end) (i32.const 1)) (i32.sub (global.get $MAX_INTERNED) (i32.const 1))))
          (then
            (global.set $fresh (i32.const 0))
            (i32.store offset=12 (local.get $out) (call $intern (local.get $p) (local.get $end)))
            (if (global.get $fresh) (then
              (i32.store (i32.add (global.get $FRESH) (i32.shl (local.get $fresh) (i32.const 2))) (local.get $i))
              (local.set $fresh (i32.add (local.get $fresh) (i32.const 1)))))))
        (if (i32.eq (i32.load offset=8 (local.get $out)) (i32.const 2)) (then
          (i32.store offset=12 (local.get $out)
            (call $numval (local.get $p) (i32.add (local.get $p) (local.get $end))
              (i32.add (global.get $NUMBERS) (i32.shl (local.get $i) (i32.const 3)))))))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $prog (i32.add (local.get $prog) (i32.const 12)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))
      (return (i32.add (i32.add (local.get $fresh) (i32.const 1)) (i32.shl (global.get $full) (i32.const 16)))))
    (i32.const 0)))
