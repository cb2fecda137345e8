namespace Kv.Load.Tests;

public class SplitOrderTests
{
    [Fact]
    public void Keys_are_split_highest_first_so_no_split_waits_for_a_new_group_to_elect()
    {
        var order = ClusterAdmin.SplitOrder(Accounts.SplitKeys(10_000, 8), []);
        Assert.Equal(7, order.Count);
        // Each next key lies left of the one before: it falls in the old group's half, which already has a leader.
        for (int i = 1; i < order.Count; i++)
            Assert.True(string.CompareOrdinal(order[i], order[i - 1]) < 0, $"{order[i]} comes after {order[i - 1]}");
    }

    [Fact]
    public void Keys_that_already_start_a_range_are_left_out_and_duplicates_split_once()
    {
        var order = ClusterAdmin.SplitOrder(["k2", "k1", "k3", "k2"], ["", "k3"]);
        Assert.Equal(["k2", "k1"], order);
    }
}
