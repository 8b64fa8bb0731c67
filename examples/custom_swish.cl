// Swish with a trainable-style slope: x * sigmoid(beta * x), and its
// derivative, as an actkit custom op (README.md, "Custom activations").
//
// actkit: op swish_beta(beta = 1.0) forward swish_beta derivative swish_beta_grad

float swish_beta(float x, float beta) {
  return x * sigmoid(beta * x);
}

float swish_beta_grad(float x, float beta) {
  float s = sigmoid(beta * x);
  return s + beta * x * s * (1.0f - s);
}
