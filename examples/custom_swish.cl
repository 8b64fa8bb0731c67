// Swish with a slope: x * sigmoid(beta * x), and its derivative, as an
// actkit custom op (README.md, "Custom activations"). Try it with
//   actc run swish_beta --custom examples/custom_swish.cl --values -1,0,1
//   actc verify --custom examples/custom_swish.cl --device vulkan:0
//
// actkit: op swish_beta(beta = 1.0) forward swish_beta derivative swish_beta_grad

float swish_beta(float x, float beta) {
  return x * sigmoid(beta * x);
}

// d/dx x s(bx) = s + bx s (1 - s) = s (1 + bx (1 - s)). bx (1 - s) goes
// to 0 in both tails; past |bx| = 100 it is taken as 0, so that a huge x
// (bx = inf in float) never forms inf * 0.
float swish_beta_grad(float x, float beta) {
  float bx = beta * x;
  float s = sigmoid(bx);
  float t = fabs(bx) > 100.0f ? 0.0f : bx * (1.0f - s);
  return s * (1.0f + t);
}
