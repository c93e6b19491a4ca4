;; The resampler's inner loop (lib/resampler.ts) in WebAssembly SIMD: four
;; taps per instruction instead of one. Built into lib/fir-kernel-wasm.ts by
;; `npm run build:wasm`; a test checks that file against this source.
;;
;; One call turns `n` int16 input samples into every output sample they
;; complete. Memory layout is the caller's: `hist` holds `keep` float samples
;; of history, the input is converted to floats right after them, and branch
;; p's taps (time-reversed, a multiple of 4) start at coefs + p * taps * 4.
(module
  (memory (export "memory") 1)
  (global $phase (export "phase") (mut i32) (i32.const 0))
  (global $pos (export "pos") (mut i32) (i32.const 0))

  (func (export "run")
    (param $coefs i32) (param $taps i32) (param $up i32) (param $down i32)
    (param $hist i32) (param $keep i32) (param $in i32) (param $n i32) (param $out i32)
    (param $phase0 i32) (param $pos0 i32)
    (result i32)
    (local $i i32) (local $dst i32) (local $v v128)
    (local $phase i32) (local $pos i32) (local $count i32) (local $step i32)
    (local $c i32) (local $h i32) (local $t i32) (local $tb i32)
    (local $acc0 v128) (local $acc1 v128) (local $s f32) (local $r i32)

    ;; int16 input -> floats after the history, eight at a time, then the rest
    (local.set $dst (i32.add (local.get $hist) (i32.shl (local.get $keep) (i32.const 2))))
    (block $conv_done
      (loop $conv
        (br_if $conv_done (i32.gt_s (i32.add (local.get $i) (i32.const 8)) (local.get $n)))
        (local.set $v (v128.load align=2 (i32.add (local.get $in) (i32.shl (local.get $i) (i32.const 1)))))
        (v128.store align=4 (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 2)))
          (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $v))))
        (v128.store align=4 (i32.add (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 2))) (i32.const 16))
          (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $v))))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $conv)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_s (local.get $i) (local.get $n)))
        (f32.store (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 2)))
          (f32.convert_i32_s (i32.load16_s (i32.add (local.get $in) (i32.shl (local.get $i) (i32.const 1))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail)))

    (local.set $phase (local.get $phase0))
    (local.set $pos (local.get $pos0))
    (local.set $tb (i32.shl (local.get $taps) (i32.const 2)))
    (block $done
      (loop $each_output
        (br_if $done (i32.ge_s (local.get $pos) (local.get $n)))
        (local.set $c (i32.add (local.get $coefs) (i32.mul (local.get $phase) (local.get $tb))))
        (local.set $h (i32.add (local.get $hist) (i32.shl (local.get $pos) (i32.const 2))))
        (local.set $acc0 (v128.const i32x4 0 0 0 0))
        (local.set $acc1 (v128.const i32x4 0 0 0 0))
        (local.set $t (i32.const 0))
        ;; two sums, eight taps a turn, so each add need not wait for the one before
        (block $pairs_done
          (loop $pairs
            (br_if $pairs_done (i32.gt_u (i32.add (local.get $t) (i32.const 32)) (local.get $tb)))
            (local.set $acc0 (f32x4.add (local.get $acc0)
              (f32x4.mul (v128.load align=4 (i32.add (local.get $c) (local.get $t)))
                         (v128.load align=4 (i32.add (local.get $h) (local.get $t))))))
            (local.set $acc1 (f32x4.add (local.get $acc1)
              (f32x4.mul (v128.load align=4 (i32.add (i32.add (local.get $c) (local.get $t)) (i32.const 16)))
                         (v128.load align=4 (i32.add (i32.add (local.get $h) (local.get $t)) (i32.const 16))))))
            (local.set $t (i32.add (local.get $t) (i32.const 32)))
            (br $pairs)))
        (if (i32.lt_u (local.get $t) (local.get $tb))
          (then
            (local.set $acc0 (f32x4.add (local.get $acc0)
              (f32x4.mul (v128.load align=4 (i32.add (local.get $c) (local.get $t)))
                         (v128.load align=4 (i32.add (local.get $h) (local.get $t))))))))
        (local.set $acc0 (f32x4.add (local.get $acc0) (local.get $acc1)))
        (local.set $s (f32.add
          (f32.add (f32x4.extract_lane 0 (local.get $acc0)) (f32x4.extract_lane 1 (local.get $acc0)))
          (f32.add (f32x4.extract_lane 2 (local.get $acc0)) (f32x4.extract_lane 3 (local.get $acc0)))))
        ;; to the nearest integer, held to the int16 range
        (local.set $r (i32.trunc_sat_f32_s (f32.nearest (local.get $s))))
        (if (i32.gt_s (local.get $r) (i32.const 32767)) (then (local.set $r (i32.const 32767))))
        (if (i32.lt_s (local.get $r) (i32.const -32768)) (then (local.set $r (i32.const -32768))))
        (i32.store16 (i32.add (local.get $out) (i32.shl (local.get $count) (i32.const 1))) (local.get $r))
        (local.set $count (i32.add (local.get $count) (i32.const 1)))
        ;; next branch, and how far the input moves
        (local.set $step (i32.div_u (i32.add (local.get $phase) (local.get $down)) (local.get $up)))
        (local.set $phase (i32.sub (i32.add (local.get $phase) (local.get $down)) (i32.mul (local.get $step) (local.get $up))))
        (local.set $pos (i32.add (local.get $pos) (local.get $step)))
        (br $each_output)))
    (global.set $phase (local.get $phase))
    (global.set $pos (i32.sub (local.get $pos) (local.get $n)))
    (local.get $count))
)
