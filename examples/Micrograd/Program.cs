// Micrograd, in TinyGrad: one neuron, o = tanh(w1·x1 + w2·x2 + b), differentiated twice: by the tape and by hand.
//
// Read this file top to bottom; it is meant as the first page of TinyGrad. Every value is a rank-0 tensor (a
// scalar), so nothing here is about shapes: only about how reverse-mode autodiff turns one forward pass into
// every gradient. The program prints each intermediate value, then each gradient beside the formula it should
// equal (derived by hand with the chain rule, evaluated here in double precision), and exits with 1 if any
// pair disagrees. The numbers are Andrej Karpathy's from micrograd, chosen so that the gradients come out round.
using System.Globalization;
using TinyGrad;

// --quick (which CI passes to every example) changes nothing here: this walk-through is instant either way.
_ = args;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture; // "0.5000", never "0,5000"

var watched = new Dictionary<string, float>();
int disagreements = 0;

// ---- 1. Leaves ---------------------------------------------------------------------------------------------
// A leaf is a tensor we make ourselves rather than one an op produced. RequireGrad() asks the tape to deliver
// d(output)/d(leaf) into leaf.Grad when we call Backward(). Inputs usually need no gradient (we never update
// them), but asking for theirs too costs nothing here and shows that the tape does not care which is which.
var x1 = Tensor.Scalar(2f).RequireGrad();
var x2 = Tensor.Scalar(0f).RequireGrad();
var w1 = Tensor.Scalar(-3f).RequireGrad();
var w2 = Tensor.Scalar(1f).RequireGrad();
var b = Tensor.Scalar(6.8813735870195432f).RequireGrad(); // makes n = atanh(1/√2), so o = 0.7071 and 1 − o² = 0.5

// ---- 2. Forward pass ---------------------------------------------------------------------------------------
// Each op computes its value now and, because an input requires a gradient, appends a node to the tape: its
// output, its inputs, and a closure that turns the output's gradient into its inputs' gradients (for a product
// a·b: grad_a += grad·b, grad_b += grad·a). The tape is in execution order, so replaying it backwards visits
// every node after all the nodes that used its output: a topological order for free.
//
// Watch(name, t) is the identity with a spy in its backward (defined at the bottom): Backward() frees the
// gradients of intermediate tensors as soon as it has used them (they are only needed on the way through), so to
// print them we insert an op that writes down the gradient passing through it.
var x1w1 = Watch("x1·w1", x1 * w1);
var x2w2 = Watch("x2·w2", x2 * w2);
var n = Watch("n", x1w1 + x2w2 + b);
var o = n.Tanh();

Console.WriteLine("Part 1: o = tanh(x1·w1 + x2·w2 + b)");
Console.WriteLine();
Console.WriteLine("forward pass (the leaves, then what each op computed):");
Value("x1", x1); Value("w1", w1); Value("x2", x2); Value("w2", w2); Value("b", b);
Value("x1·w1", x1w1); Value("x2·w2", x2w2); Value("n = x1·w1 + x2·w2 + b", n); Value("o = tanh(n)", o);

// ---- 3. Backward pass --------------------------------------------------------------------------------------
// Backward() seeds do/do = 1 and replays the tape in reverse. The chain rule, one node at a time:
//   tanh:  do/dn = 1 − tanh(n)² = 1 − o²                     (the derivative of tanh, written with its output)
//   add:   d(a + b)/da = 1, so a sum hands its gradient unchanged to both inputs
//   mul:   d(a·b)/da = b, so a product hands each input the gradient times the *other* input
o.Backward();

// The same derivatives by hand, in double precision, from the plain numbers.
double X1 = 2, X2 = 0, W1 = -3, W2 = 1, B = 6.8813735870195432;
double O = Math.Tanh(X1 * W1 + X2 * W2 + B);
double dn = 1 - O * O;

Console.WriteLine();
Console.WriteLine("backward pass (autograd beside the hand-derived formula):");
Console.WriteLine($"  {"gradient",-14}{"autograd",10}   {"by hand",-36}{"value",10}");
Check("do/dn", watched["n"], "1 − o²", dn);
Check("do/d(x1·w1)", watched["x1·w1"], "do/dn · 1         (add passes it on)", dn);
Check("do/d(x2·w2)", watched["x2·w2"], "do/dn · 1", dn);
Check("do/db", b.Grad!.Item(), "do/dn · 1", dn);
Check("do/dx1", x1.Grad!.Item(), "do/d(x1·w1) · w1  (mul: the other)", dn * W1);
Check("do/dw1", w1.Grad!.Item(), "do/d(x1·w1) · x1", dn * X1);
Check("do/dx2", x2.Grad!.Item(), "do/d(x2·w2) · w2", dn * W2);
Check("do/dw2", w2.Grad!.Item(), "do/d(x2·w2) · x2  (x2 = 0: no say)", dn * X2);

// ---- 4. A value used twice: gradients add up ---------------------------------------------------------------
// The same neuron with tanh spelled out as (e − 1)/(e + 1), e = exp(2n). Now e feeds two ops, so its gradient
// has two contributions that must be summed (micrograd's famous bug was overwriting instead of adding):
//   through the numerator   (e − 1):  1/(e + 1)
//   through the denominator (e + 1): −(e − 1)/(e + 1)²
//   together: 2/(e + 1)²
// The leaves must end up with exactly the gradients of Part 1. Leaf gradients also *accumulate* across Backward
// calls (that is how a tied weight collects both uses), so clear them first, as an optimizer's ZeroGrad() does.
foreach (var leaf in new[] { x1, x2, w1, w2, b }) leaf.ZeroGrad();
var n2 = x1 * w1 + x2 * w2 + b;
var e = Watch("e", (n2 * 2f).Exp());
var numerator = Watch("e − 1", e - 1f);
var denominator = Watch("e + 1", e + 1f);
var o2 = numerator / denominator;
o2.Backward();

double E = Math.Exp(2 * (X1 * W1 + X2 * W2 + B));
Console.WriteLine();
Console.WriteLine("Part 2: the same neuron with tanh(n) = (e − 1)/(e + 1), e = exp(2n)");
Console.WriteLine();
Value("e = exp(2n)", e); Value("o = (e − 1)/(e + 1)", o2);
Console.WriteLine();
Console.WriteLine($"  {"gradient",-14}{"autograd",10}   {"by hand",-36}{"value",10}");
Check("do/d(e − 1)", watched["e − 1"], "1/(e + 1)", 1 / (E + 1));
Check("do/d(e + 1)", watched["e + 1"], "−(e − 1)/(e + 1)²", -(E - 1) / ((E + 1) * (E + 1)));
Check("do/de", watched["e"], "sum of both: 2/(e + 1)²", 2 / ((E + 1) * (E + 1)));
Check("do/dx1", x1.Grad!.Item(), "as in Part 1", dn * W1);
Check("do/dw1", w1.Grad!.Item(), "as in Part 1", dn * X1);
Check("do/db", b.Grad!.Item(), "as in Part 1", dn);

// ---- 5. What a gradient is for -----------------------------------------------------------------------------
// The gradient says how o changes when the leaves move: nudge every weight by h·(its gradient) and, to first
// order, o rises by h·Σ grad². Training is this step taken downhill on a loss, many times (see examples/Mlp).
const float h = 0.01f;
float predicted = h * (w1.Grad!.Item() * w1.Grad.Item() + w2.Grad!.Item() * w2.Grad.Item() + b.Grad.Item() * b.Grad.Item());
float before = o.Item();
float after = (x1 * (w1 + h * w1.Grad) + x2 * (w2 + h * w2.Grad) + (b + h * b.Grad)).Tanh().Item();
Console.WriteLine();
Console.WriteLine($"Part 3: step the weights by {h}·grad: o goes {before:0.0000} → {after:0.0000}, a rise of {after - before:0.00000}; " +
    $"the gradient predicted {predicted:0.00000}");
// Second-order terms make the two differ slightly; a wrong gradient would miss by far more than this tolerance.
if (Math.Abs((after - before) - predicted) > 0.1 * predicted)
{
    Console.WriteLine("  MISMATCH: the step did not change o as the gradient predicted");
    disagreements++;
}

Console.WriteLine();
Console.WriteLine(disagreements == 0
    ? "All gradients agree with the hand-derived formulas."
    : $"{disagreements} gradient(s) disagree with the hand-derived formulas.");
return disagreements == 0 ? 0 : 1;

// ---- helpers -----------------------------------------------------------------------------------------------

// The identity op, recorded on the tape with Autograd.Function (the way any custom op joins the tape). Its
// backward receives the total gradient of its output, writes it down under `name`, and passes it on unchanged.
Tensor Watch(string name, Tensor t) =>
    Autograd.Function($"watch {name}", [t], () => t, grad =>
    {
        watched[name] = grad.Item();
        return [grad];
    });

static void Value(string name, Tensor t) => Console.WriteLine($"  {name,-24}= {t.Item(),8:0.0000}");

// One row of the gradient table; float32 autograd against a double-precision formula, so allow float rounding.
void Check(string name, float autograd, string formula, double byHand)
{
    bool agree = Math.Abs(autograd - byHand) <= 1e-5 + 1e-4 * Math.Abs(byHand);
    Console.WriteLine($"  {name,-14}{autograd,10:0.0000}   {formula,-36}{byHand,10:0.0000}  {(agree ? "ok" : "MISMATCH")}");
    if (!agree) disagreements++;
}
