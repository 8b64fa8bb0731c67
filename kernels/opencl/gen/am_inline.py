#!/usr/bin/env python3
"""Marks every function definition of the kernel files AM_INLINE (see
act_math.cl and README.md: PoCL vectorizes a kernel only when every call
in it is inlined).  Idempotent; run after adding functions:
    python3 kernels/opencl/gen/am_inline.py kernels/opencl/*.cl
"""
import re
import sys

DEF = re.compile(r'^(float|float2|float4|bool|int|uint|ushort) ([a-z][a-z_0-9]*\()',
                 re.M)

for path in sys.argv[1:]:
    if 'prelude' in path:
        continue
    text = open(path).read()
    lines = []
    for line in text.split('\n'):
        if DEF.match(line) and (not lines or lines[-1] != 'AM_INLINE'):
            line = 'AM_INLINE ' + line
        if line.startswith('AM_INLINE ') and len(line) > 80:
            lines += ['AM_INLINE', line[len('AM_INLINE '):]]
        else:
            lines.append(line)
    new = '\n'.join(lines)
    if new != text:
        open(path, 'w').write(new)
        print(path)
