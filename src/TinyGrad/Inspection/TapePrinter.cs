using System.Globalization;
using System.Text;

namespace TinyGrad;

// Printing the recorded tape: a text listing in execution order and a Graphviz DOT graph (micrograd's draw_dot).
// Both read the tape as it stands, so call them after the forward pass and before Backward(), which frees it.

/// <content>The tape as text (<see cref="DescribeTape"/>).</content>
public static partial class Autograd
{
    /// <summary>
    /// Lists every op recorded on this thread's tape and not yet replayed, in execution order, one line each:
    /// <c>index: op(inputs) -> outputs</c>, each tensor as <c>label [shape]</c> followed by <c>leaf</c> for a leaf and
    /// <c>requires_grad</c> where it requires a gradient. A tensor's label is its <see cref="Tensor.Name"/> (a
    /// second tensor with the same name gets <c>#2</c>, …), or <c>%0</c>, <c>%1</c>, … in order of first appearance.
    /// </summary>
    /// <example><code>
    /// 0: mul(a [2] leaf requires_grad, b [2] leaf) -> %0 [2] requires_grad
    /// 1: tanh(%0 [2] requires_grad) -> %1 [2] requires_grad
    /// </code></example>
    public static string DescribeTape() => TapeText.Describe(Tape);
}

/// <content>One tensor's graph as text and as Graphviz DOT.</content>
public sealed partial class Tensor
{
    /// <summary>
    /// The ops this tensor depends on, in execution order, in the format of <see cref="Autograd.DescribeTape"/>
    /// (ops of other graphs on the tape are left out). Empty for a leaf or a tensor whose graph Backward() already freed.
    /// </summary>
    public string DescribeGraph() => TapeText.Describe(GraphNodes());

    /// <summary>
    /// This tensor's graph in Graphviz DOT, like micrograd's <c>draw_dot</c>: a box per tensor (label, shape,
    /// whether it requires a gradient), an ellipse per op, arrows from inputs to op to outputs, left to right.
    /// Render it with <c>dot -Tsvg graph.dot -o graph.svg</c>. Call it before Backward(), which frees the graph.
    /// </summary>
    public string ToDot()
    {
        var labels = new TapeText.Labels();
        var ids = new Dictionary<Tensor, string>(ReferenceEqualityComparer.Instance);
        var sb = new StringBuilder();
        sb.Append("digraph tape {\n  rankdir=LR;\n  node [shape=record];\n");
        string Box(Tensor t)
        {
            if (ids.TryGetValue(t, out var id)) return id;
            id = "t" + ids.Count.ToString(CultureInfo.InvariantCulture);
            ids[t] = id;
            string grad = t.RequiresGrad ? "requires_grad" : "no grad";
            sb.Append("  ").Append(id).Append(" [label=\"{ ").Append(Escape(labels.Of(t))).Append(" | ")
              .Append(Shapes.Format(t._shape)).Append(" | ").Append(grad).Append(" }\"];\n");
            return id;
        }
        var nodes = GraphNodes();
        if (nodes.Count == 0) Box(this);
        for (int i = 0; i < nodes.Count; i++)
        {
            var node = nodes[i];
            string op = "op" + i.ToString(CultureInfo.InvariantCulture);
            var inputs = node.Inputs.Select(Box).ToArray();
            sb.Append("  ").Append(op).Append(" [label=\"").Append(Escape(node.Op)).Append("\", shape=ellipse];\n");
            foreach (var input in inputs) sb.Append("  ").Append(input).Append(" -> ").Append(op).Append(";\n");
            foreach (var output in node.Outputs)
            {
                string id = Box(output); // declares the box first
                sb.Append("  ").Append(op).Append(" -> ").Append(id).Append(";\n");
            }
        }
        return sb.Append("}\n").ToString();
    }

    // A record label treats | { } < > and quotes as syntax: escape them in names.
    private static string Escape(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (char ch in s)
        {
            if (ch is '|' or '{' or '}' or '<' or '>' or '"' or '\\') sb.Append('\\');
            sb.Append(ch);
        }
        return sb.ToString();
    }

    // The unreleased nodes this tensor depends on, in tape (execution) order.
    private List<Autograd.Node> GraphNodes()
    {
        if (Creator is not { Released: false } creator) return [];
        var ancestors = Autograd.Ancestors(creator);
        return [.. creator.Tape.Where(ancestors.Contains)];
    }
}

/// <summary>The text format shared by <see cref="Autograd.DescribeTape"/> and <see cref="Tensor.DescribeGraph"/>.</summary>
internal static class TapeText
{
    public static string Describe(IReadOnlyList<Autograd.Node> nodes)
    {
        var labels = new Labels();
        var sb = new StringBuilder();
        for (int i = 0; i < nodes.Count; i++)
        {
            var node = nodes[i];
            sb.Append(i.ToString(CultureInfo.InvariantCulture)).Append(": ").Append(node.Op).Append('(');
            sb.AppendJoin(", ", node.Inputs.Select(labels.Describe));
            sb.Append(") -> ");
            sb.AppendJoin(", ", node.Outputs.Select(labels.Describe));
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>Stable labels within one printout: the tensor's name (numbered on a clash) or %k.</summary>
    internal sealed class Labels
    {
        private readonly Dictionary<Tensor, string> _labels = new(ReferenceEqualityComparer.Instance);
        private readonly Dictionary<string, int> _nameUses = [];
        private int _unnamed;

        public string Of(Tensor t)
        {
            if (_labels.TryGetValue(t, out var label)) return label;
            if (t.Name is string name)
            {
                int uses = _nameUses.GetValueOrDefault(name) + 1;
                _nameUses[name] = uses;
                label = uses == 1 ? name : $"{name}#{uses}";
            }
            else label = "%" + (_unnamed++).ToString(CultureInfo.InvariantCulture);
            _labels[t] = label;
            return label;
        }

        public string Describe(Tensor t) =>
            $"{Of(t)} {Shapes.Format(t.ShapeRef)}{(t.IsLeaf ? " leaf" : "")}{(t.RequiresGrad ? " requires_grad" : "")}";
    }
}
