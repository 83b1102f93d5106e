namespace EdgeCollector.Modbus;

/// <summary>One read request covering several tags of one unit and area.</summary>
/// <param name="UnitId">Unit.</param>
/// <param name="Area">Area.</param>
/// <param name="Address">First wire address.</param>
/// <param name="Count">Registers or bits read.</param>
/// <param name="Tags">Tags decoded from the block, by address.</param>
public sealed record ModbusBlock(byte UnitId, ModbusArea Area, ushort Address, ushort Count, IReadOnlyList<ModbusTag> Tags)
{
    /// <summary>The read request for this block.</summary>
    public ModbusRequest ToRequest() => ModbusRequest.Read(Area, Address, Count);

    /// <inheritdoc />
    public override string ToString() => $"unit {UnitId} {Area} {Address}+{Count} ({Tags.Count} tags)";
}

/// <summary>Coalesces tags into block reads (pure).</summary>
public static class ModbusBlockPlanner
{
    /// <summary>
    /// Groups tags per unit and area and merges neighbours into blocks of at most
    /// <paramref name="maxRegisters"/> registers (§6.3: 125) or <paramref name="maxBits"/> bits (§6.1: 2000),
    /// bridging holes of at most <paramref name="maxGap"/> unused addresses.
    /// </summary>
    public static IReadOnlyList<ModbusBlock> Plan(IEnumerable<ModbusTag> tags, int maxGap = 0, int maxRegisters = ModbusRequest.MaxReadRegisters, int maxBits = ModbusRequest.MaxReadBits)
    {
        ArgumentNullException.ThrowIfNull(tags);
        ArgumentOutOfRangeException.ThrowIfNegative(maxGap);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRegisters, 4); // the widest type must fit
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxRegisters, ModbusRequest.MaxReadRegisters);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBits, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxBits, ModbusRequest.MaxReadBits);

        var blocks = new List<ModbusBlock>();
        foreach (var group in tags.GroupBy(t => (t.UnitId, t.Area)).OrderBy(g => g.Key.UnitId).ThenBy(g => g.Key.Area))
        {
            int limit = group.Key.Area is ModbusArea.Coil or ModbusArea.Discrete ? maxBits : maxRegisters;
            var current = new List<ModbusTag>();
            int start = 0, end = 0; // end is exclusive
            foreach (var tag in group.OrderBy(t => t.Address).ThenBy(t => t.Width))
            {
                tag.Validate();
                int tagEnd = tag.Address + tag.Width;
                if (current.Count > 0 && tag.Address - end <= maxGap && Math.Max(end, tagEnd) - start <= limit)
                {
                    current.Add(tag);
                    end = Math.Max(end, tagEnd);
                    continue;
                }

                if (current.Count > 0)
                {
                    blocks.Add(new ModbusBlock(group.Key.UnitId, group.Key.Area, (ushort)start, (ushort)(end - start), current));
                }

                current = [tag];
                start = tag.Address;
                end = tagEnd;
            }

            if (current.Count > 0)
            {
                blocks.Add(new ModbusBlock(group.Key.UnitId, group.Key.Area, (ushort)start, (ushort)(end - start), current));
            }
        }

        return blocks;
    }

    /// <summary>
    /// Splits a block that drew an exception into two halves by tag, so one bad address no longer
    /// blinds its neighbours. Returns null for a block that holds a single tag.
    /// </summary>
    public static (ModbusBlock First, ModbusBlock Second)? Split(ModbusBlock block)
    {
        ArgumentNullException.ThrowIfNull(block);
        if (block.Tags.Count < 2)
        {
            return null;
        }

        int half = block.Tags.Count / 2;
        return (Span(block, block.Tags.Take(half).ToList()), Span(block, block.Tags.Skip(half).ToList()));
    }

    private static ModbusBlock Span(ModbusBlock parent, List<ModbusTag> tags)
    {
        int start = tags.Min(t => t.Address);
        int end = tags.Max(t => t.Address + t.Width);
        return new ModbusBlock(parent.UnitId, parent.Area, (ushort)start, (ushort)(end - start), tags);
    }
}
