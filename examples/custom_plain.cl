// A custom activation as a plain function, as in a Flax guide: no
// annotation and no derivative. The op is named after the function, its
// parameters are the arguments after x (default 0; an annotation line
// `// actkit: op penalized_tanh(a = 0.25)` would give defaults), and
// actkit derives its gradient (docs/custom-ops.md).
//
// Penalized tanh (Xu, Huang and Li, "Revise saturated activation
// functions", 2016): tanh(x) for x > 0, a tanh(x) otherwise.
float penalized_tanh(float x, float a) {
  float t = tanh(x);
  return x > 0.0f ? t : a * t;
}
