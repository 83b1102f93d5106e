namespace EdgeCollector.Modbus.Tests.Polling;

public sealed class BlockPlannerTests
{
    private static ModbusTag T(string name, ushort address, ModbusDataType type = ModbusDataType.UInt16, byte unit = 1, ModbusArea area = ModbusArea.Holding) =>
        new(name, unit, area, address, area is ModbusArea.Coil or ModbusArea.Discrete ? ModbusDataType.Bool : type);

    [Fact]
    public void Contiguous_tags_become_one_block()
    {
        var blocks = ModbusBlockPlanner.Plan([T("a", 10, ModbusDataType.Float32), T("b", 12, ModbusDataType.Int64), T("c", 16)]);
        var block = Assert.Single(blocks);
        Assert.Equal((ushort)10, block.Address);
        Assert.Equal((ushort)7, block.Count);
        Assert.Equal(3, block.Tags.Count);
    }

    [Fact]
    public void Gaps_up_to_the_limit_are_bridged_and_larger_ones_split()
    {
        Assert.Single(ModbusBlockPlanner.Plan([T("a", 0), T("b", 5)], maxGap: 4));
        Assert.Equal(2, ModbusBlockPlanner.Plan([T("a", 0), T("b", 6)], maxGap: 4).Count);
        Assert.Equal(2, ModbusBlockPlanner.Plan([T("a", 0), T("b", 2)], maxGap: 0).Count);
    }

    [Fact]
    public void Units_and_areas_never_share_a_block()
    {
        var blocks = ModbusBlockPlanner.Plan([T("a", 0), T("b", 1, unit: 2), T("c", 2, area: ModbusArea.Input), T("d", 3, area: ModbusArea.Coil)], maxGap: 100);
        Assert.Equal(4, blocks.Count);
    }

    [Fact]
    public void Register_blocks_stay_within_125_and_bit_blocks_within_2000()
    {
        var registers = Enumerable.Range(0, 300).Select(i => T($"r{i}", (ushort)i)).ToList();
        var blocks = ModbusBlockPlanner.Plan(registers);
        Assert.All(blocks, b => Assert.InRange(b.Count, 1, 125));
        Assert.Equal(300, blocks.Sum(b => b.Tags.Count));
        Assert.Equal([125, 125, 50], blocks.Select(b => (int)b.Count));

        var bits = Enumerable.Range(0, 4500).Select(i => T($"c{i}", (ushort)i, area: ModbusArea.Coil)).ToList();
        Assert.Equal([2000, 2000, 500], ModbusBlockPlanner.Plan(bits).Select(b => (int)b.Count));
    }

    [Fact]
    public void A_multi_register_value_is_never_cut_across_blocks()
    {
        var tags = Enumerable.Range(0, 40).Select(i => T($"f{i}", (ushort)(i * 4), ModbusDataType.Float64)).ToList();
        var blocks = ModbusBlockPlanner.Plan(tags);
        Assert.All(blocks, b => Assert.All(b.Tags, t => Assert.True(t.Address + t.Width <= b.Address + b.Count)));
        Assert.All(blocks, b => Assert.InRange(b.Count, 1, 125));
    }

    [Fact]
    public void Overlapping_tags_share_registers()
    {
        var block = Assert.Single(ModbusBlockPlanner.Plan([T("wh", 3203, ModbusDataType.Int64), T("hi", 3203, ModbusDataType.Int32)]));
        Assert.Equal((ushort)4, block.Count);
    }

    [Fact]
    public void Splitting_halves_by_tag_until_single_tags()
    {
        var block = Assert.Single(ModbusBlockPlanner.Plan([T("a", 0), T("b", 1), T("c", 2), T("d", 3)]));
        var (first, second) = ModbusBlockPlanner.Split(block)!.Value;
        Assert.Equal(["a", "b"], first.Tags.Select(t => t.Name));
        Assert.Equal(((ushort)2, (ushort)2), (second.Address, second.Count));
        Assert.Null(ModbusBlockPlanner.Split(ModbusBlockPlanner.Split(first)!.Value.First));
    }

    [Fact]
    public void Invalid_tags_are_rejected_with_their_name()
    {
        var ex = Assert.Throws<ArgumentException>(() => ModbusBlockPlanner.Plan([new ModbusTag("bad", 1, ModbusArea.Coil, 0, ModbusDataType.Float32)]));
        Assert.Contains("bad", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => ModbusBlockPlanner.Plan([new ModbusTag("end", 1, ModbusArea.Holding, 65535, ModbusDataType.Int32)]));
    }
}
