using System.Text;

namespace Kv.Txn.Checker;

/// <summary>The wording shared by every explanation, so reports read alike.</summary>
internal static class Format
{
    // Lists in real histories run to thousands of elements; explanations show a window around the point that matters.
    private const int ListElementsShownMax = 8;
    private const int WindowRadius = 3;

    public static string Txn(long id) => $"T{id}";

    /// <summary>The list, or a window of it around <paramref name="focus"/> (default: its end) when it is long.</summary>
    public static string List(ReadOnlySpan<long> list, int focus = -1)
    {
        if (list.Length == 0) return "[]";
        if (focus < 0 || focus >= list.Length) focus = list.Length - 1;
        int from = 0;
        int to = list.Length;
        if (list.Length > ListElementsShownMax)
        {
            from = Math.Max(0, focus - WindowRadius);
            to = Math.Min(list.Length, focus + WindowRadius + 1);
        }
        var text = new StringBuilder("[");
        if (from > 0) text.Append("… ");
        for (int i = from; i < to; i++)
        {
            if (i > from) text.Append(' ');
            text.Append(list[i]);
        }
        if (to < list.Length) text.Append(" …");
        text.Append(']');
        if (from > 0 || to < list.Length) text.Append(" (").Append(list.Length).Append(" elements)");
        return text.ToString();
    }
}
