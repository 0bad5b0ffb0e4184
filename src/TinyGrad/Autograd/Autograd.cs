namespace TinyGrad;

/// <summary>
/// The tape. Every op that has an input requiring a gradient appends a <see cref="Node"/>: its output,
/// its inputs and a closure that turns the output's gradient into its inputs' gradients. The tape is in
/// execution order, so replaying it backwards is already a topological order: by the time a node runs,
/// every later use of its output has added into that output's gradient.
/// </summary>
/// <remarks>The tape is per thread (like the no-grad flag): a graph is built and replayed on one thread.</remarks>
public static partial class Autograd
{
    /// <summary>
    /// One recorded op. Most ops have one output; a fused layer (an LSTM over a whole window) may have
    /// several, and its backward then receives one gradient per output (null where none flowed).
    /// </summary>
    internal sealed class Node(string op, Tensor[] outputs, Tensor[] inputs, Action<Tensor?[]> backward, List<Node> tape)
    {
        public string Op { get; } = op;
        public List<Node> Tape { get; } = tape; // the recording thread's tape
        public Tensor[] Outputs { get; } = outputs;
        public Tensor[] Inputs { get; private set; } = inputs;
        public Action<Tensor?[]>? Backward { get; private set; } = backward;
        public bool Released { get; private set; }

        // Drops the closure and with it every tensor it saved for the backward pass (and the outputs' gradients,
        // unless RetainGrad asked to keep one).
        public void Release()
        {
            Backward = null;
            Inputs = [];
            foreach (var o in Outputs)
                if (!o.RetainsGrad) o.Grad = null;
            Released = true;
        }
    }

    [ThreadStatic] private static List<Node>? t_tape;
    [ThreadStatic] private static int t_noGradDepth;

    // While a Backward replays, the gradients of leaves that have hooks, summed over the pass (see DeferLeafGradient).
    [ThreadStatic] private static bool t_collectLeafGradients;
    [ThreadStatic] private static Dictionary<Tensor, (Tensor Grad, bool Owned)>? t_leafGradients;

    private static List<Node> Tape => t_tape ??= [];

    /// <summary>False inside a <see cref="NoGrad"/> scope: ops record nothing.</summary>
    public static bool IsGradEnabled => t_noGradDepth == 0;

    /// <summary>Nodes recorded on this thread and not yet replayed (a test hook; 0 after every backward).</summary>
    public static int TapeLength => Tape.Count;

    /// <summary>A scope in which ops record nothing (evaluation, optimizer steps): <c>using var _ = Autograd.NoGrad();</c></summary>
    public static NoGradScope NoGrad()
    {
        t_noGradDepth++;
        return new NoGradScope();
    }

    /// <summary>Ends a <see cref="NoGrad"/> scope when disposed.</summary>
    public readonly struct NoGradScope : IDisposable
    {
        /// <inheritdoc/>
        public void Dispose() => t_noGradDepth--;
    }

    /// <summary>
    /// Drops everything recorded on this thread without running it, e.g. after a forward pass that
    /// needed no gradient but was run outside <see cref="NoGrad"/>. Those graphs can no longer be differentiated.
    /// </summary>
    public static void ClearTape()
    {
        foreach (var node in Tape) node.Release();
        Tape.Clear();
    }

    /// <summary>
    /// Records <paramref name="output"/> as made by <paramref name="op"/> from <paramref name="inputs"/> when
    /// gradients are on and any input requires one; returns the output either way.
    /// </summary>
    internal static Tensor Record(string op, Tensor output, Tensor[] inputs, Action<Tensor> backward)
    {
        RecordMany(op, [output], inputs, grads => backward(grads[0]!));
        return output;
    }

    /// <summary>
    /// Records one node with several outputs (for fused multi-output ops). The backward runs when any
    /// output received a gradient; the others arrive as null.
    /// </summary>
    internal static void RecordMany(string op, Tensor[] outputs, Tensor[] inputs, Action<Tensor?[]> backward)
    {
        if (!IsGradEnabled) return;
        bool any = false;
        foreach (var input in inputs) any |= input.RequiresGrad;
        if (!any) return;
        var tape = Tape;
        foreach (var input in inputs)
        {
            // A graph lives on one thread's tape; a node from another thread would never be replayed here.
            if (input.Creator is { Released: false } c && !ReferenceEquals(c.Tape, tape))
                throw new InvalidOperationException(
                    $"{op}: an input of shape {Shapes.Format(input.ShapeRef)} was made by '{c.Op}' on another thread; build and differentiate a graph on one thread (Detach() to pass values across)");
        }
        var node = new Node(op, outputs, inputs, backward, tape);
        foreach (var output in outputs)
        {
            output.Creator = node;
            output.RequiresGrad = true;
        }
        tape.Add(node);
    }

    /// <summary>
    /// A user-defined differentiable op: <paramref name="forward"/> computes the output (nothing inside it
    /// is recorded), and <paramref name="backward"/> maps the output's gradient to one gradient per input
    /// (null where an input needs none). This is how custom or fused ops join the tape, and what
    /// <see cref="GradCheck"/> is pointed at to test them.
    /// </summary>
    public static Tensor Function(string name, Tensor[] inputs, Func<Tensor> forward, Func<Tensor, Tensor?[]> backward)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        Tensor output;
        using (NoGrad()) output = forward();
        // The output may share storage with an input; wrap it so the node owns a distinct tensor.
        output = new Tensor(output.Storage, output.ShapeRef);
        return Record(name, output, inputs, gy =>
        {
            var grads = backward(gy);
            if (grads.Length != inputs.Length)
                throw new InvalidOperationException($"{name}: backward returned {grads.Length} gradients for {inputs.Length} inputs");
            for (int i = 0; i < inputs.Length; i++)
                if (grads[i] is Tensor g) inputs[i].AccumulateGrad(g);
        });
    }

    internal static void Backward(Tensor root, Tensor? gradient)
    {
        if (!root.RequiresGrad)
            throw new InvalidOperationException($"backward: the tensor of shape {Shapes.Format(root.ShapeRef)} does not require a gradient (no input of its graph has RequiresGrad set)");
        if (gradient is null)
        {
            if (root.Numel != 1)
                throw new ArgumentException($"backward: a gradient can be implied only for a one-element output; this one has shape {Shapes.Format(root.ShapeRef)}, so pass the upstream gradient");
            gradient = Tensor.Full(root.ShapeRef, 1f, root.Device);
        }
        else if (!Shapes.Equal(gradient.ShapeRef, root.ShapeRef))
        {
            throw new ArgumentException($"backward: gradient shape {Shapes.Format(gradient.ShapeRef)} does not match output shape {Shapes.Format(root.ShapeRef)}");
        }
        Tensor.SameDevice("backward", root, gradient);

        // A hooked leaf's hooks must see its whole gradient of this pass once, so the replay collects those
        // gradients and the hooks run after it. (Saved and restored: a hook may itself call Backward.)
        var (outerCollect, outerGradients) = (t_collectLeafGradients, t_leafGradients);
        (t_collectLeafGradients, t_leafGradients) = (true, null);
        Dictionary<Tensor, (Tensor Grad, bool Owned)>? hooked;
        try
        {
            if (root.Creator is null) root.AccumulateGrad(gradient);
            else Replay(root, gradient);
        }
        finally
        {
            hooked = t_leafGradients;
            (t_collectLeafGradients, t_leafGradients) = (outerCollect, outerGradients);
        }
        if (hooked is null) return;
        foreach (var (leaf, (g, owned)) in hooked)
        {
            var h = leaf.RunGradHooks(g);
            leaf.AddToGrad(h, owned && ReferenceEquals(h, g)); // a hook's replacement may be referenced elsewhere: copy it
        }
    }

    /// <summary>
    /// Called by a leaf that has gradient hooks when a gradient arrives: during a backward pass the gradient is
    /// summed apart (returns true) and handed to the hooks, then to <see cref="Tensor.Grad"/>, after the replay.
    /// </summary>
    internal static bool DeferLeafGradient(Tensor leaf, Tensor g, bool owned)
    {
        if (!t_collectLeafGradients) return false;
        var pending = t_leafGradients ??= new Dictionary<Tensor, (Tensor, bool)>(ReferenceEqualityComparer.Instance);
        if (pending.TryGetValue(leaf, out var sum))
        {
            using var _ = NoGrad();
            pending[leaf] = (sum.Grad + g, true);
        }
        else pending[leaf] = (g, owned);
        return true;
    }

    /// <summary>Every unreleased node <paramref name="root"/> depends on (its own creator included).</summary>
    internal static HashSet<Node> Ancestors(Node root)
    {
        var ancestors = new HashSet<Node>(ReferenceEqualityComparer.Instance);
        var pending = new Stack<Node>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            var node = pending.Pop();
            if (!ancestors.Add(node)) continue;
            foreach (var input in node.Inputs)
                if (input.Creator is { Released: false } c) pending.Push(c);
        }
        return ancestors;
    }

    private static void Replay(Tensor root, Tensor gradient)
    {
        var creator = root.Creator!;
        if (creator.Released)
            throw new InvalidOperationException(
                $"backward: the graph of this tensor (made by '{creator.Op}') was already released by an earlier Backward(); run the forward pass again to differentiate it again");

        var tape = Tape;
        if (!ReferenceEquals(creator.Tape, tape))
            throw new InvalidOperationException("backward: this tensor's graph was recorded on another thread; call Backward() on the thread that ran the forward pass");
        int end = tape.LastIndexOf(creator);

        // Replay only the root's ancestors: other graphs recorded on this thread stay differentiable.
        var ancestors = Ancestors(creator);

        using var _ = NoGrad();
        try
        {
            root.Grad = gradient;
            for (int i = end; i >= 0; i--)
            {
                var node = tape[i];
                if (!ancestors.Contains(node)) continue;
                var grads = new Tensor?[node.Outputs.Length];
                bool reached = false;
                for (int o = 0; o < grads.Length; o++)
                {
                    // Every use of this output has been replayed: its gradient is complete. Hooks may replace it;
                    // then it is dropped unless RetainGrad asked to keep it.
                    var output = node.Outputs[o];
                    var g = output.Grad;
                    if (g is not null && output.HasGradHooks) g = output.RunGradHooks(g);
                    grads[o] = g;
                    reached |= g is not null;
                    output.Grad = output.RetainsGrad ? g : null;
                }
                if (reached) node.Backward!(grads); // otherwise no gradient reached this node from the root
            }
        }
        finally
        {
            // Free what the replay saved; the rest of the tape (other graphs) stays.
            foreach (var node in ancestors) node.Release();
            tape.RemoveAll(ancestors.Contains);
        }
    }
}
