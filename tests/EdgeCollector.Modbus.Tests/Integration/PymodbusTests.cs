using EdgeCollector.Modbus.Tests.Infrastructure;
using EdgeCollector.Serial;

namespace EdgeCollector.Modbus.Tests.Integration;

/// <summary>Our master against pymodbus 3.0.0rc1 (python3-pymodbus) over TCP and RTU on a socat pty.</summary>
[Trait("Category", "Integration")]
public sealed class PymodbusTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static ModbusConnectionOptions Options => new() { Timeout = TimeSpan.FromSeconds(2), Retries = 1 };

    [Fact]
    public async Task Tcp_master_reads_every_type_and_word_order()
    {
        using var server = await PymodbusServer.StartTcpAsync(PymodbusPoints.Units);
        await using var master = new ModbusTcpConnection("127.0.0.1", server.Port, Options);
        await AssertEveryPointAsync(master, server);
    }

    [Fact]
    public async Task Rtu_master_reads_every_type_and_word_order_over_a_pty()
    {
        using var pty = await SocatPtyPair.StartAsync();
        using var server = await PymodbusServer.StartRtuAsync(pty.PathB, 19200, PymodbusPoints.Units);
        await using var master = ModbusRtuConnection.Serial(new SerialPortSettings(pty.PathA, 19200), Options);
        await AssertEveryPointAsync(master, server);
        Assert.Equal(0, master.Counters.GarbageBytes);
    }

    [Fact]
    public async Task Rtu_over_tcp_master_reads_every_type_and_word_order()
    {
        using var server = await PymodbusServer.StartRtuOverTcpAsync(PymodbusPoints.Units);
        await using var master = ModbusRtuConnection.OverTcp("127.0.0.1", server.Port, Options);
        await AssertEveryPointAsync(master, server);
        var ex = await Assert.ThrowsAsync<ModbusDeviceException>(() => master.ReadRegistersAsync(1, ModbusArea.Holding, PymodbusPoints.Size, 1).WaitAsync(Bound));
        Assert.Equal(ModbusExceptionCode.IllegalDataAddress, ex.Code);
    }

    [Fact]
    public async Task Tcp_exceptions_come_back_as_exceptions_and_split_blocks()
    {
        using var server = await PymodbusServer.StartTcpAsync(PymodbusPoints.Units);
        await using var master = new ModbusTcpConnection("127.0.0.1", server.Port, Options);

        var ex = await Assert.ThrowsAsync<ModbusDeviceException>(() => master.ReadRegistersAsync(1, ModbusArea.Holding, PymodbusPoints.Size - 2, 5).WaitAsync(Bound));
        Assert.Equal(ModbusExceptionCode.IllegalDataAddress, ex.Code);
        await Assert.ThrowsAsync<ModbusDeviceException>(() => master.ReadBitsAsync(1, ModbusArea.Coil, PymodbusPoints.Size, 1).WaitAsync(Bound));

        // A tag past the end of the map, coalesced with good neighbours, only blinds itself.
        ModbusTag[] tags =
        [
            new("good1", 1, ModbusArea.Holding, PymodbusPoints.Size - 4, ModbusDataType.UInt16),
            new("good2", 1, ModbusArea.Holding, PymodbusPoints.Size - 2, ModbusDataType.UInt16),
            new("past-end", 1, ModbusArea.Holding, PymodbusPoints.Size, ModbusDataType.UInt16),
        ];
        var samples = await new ModbusPoller(master, tags).PollOnceAsync().WaitAsync(Bound);
        Assert.Equal(ModbusQuality.Bad, samples.Single(s => s.Tag.Name == "past-end").Quality);
        Assert.Equal(2, samples.Count(s => s.Quality == ModbusQuality.Good));
    }

    [Fact]
    public async Task Rtu_exceptions_come_back_as_exceptions()
    {
        using var pty = await SocatPtyPair.StartAsync();
        using var server = await PymodbusServer.StartRtuAsync(pty.PathB, 19200, PymodbusPoints.Units);
        await using var master = ModbusRtuConnection.Serial(new SerialPortSettings(pty.PathA, 19200), Options);

        var ex = await Assert.ThrowsAsync<ModbusDeviceException>(() => master.ReadRegistersAsync(1, ModbusArea.Input, PymodbusPoints.Size - 1, 2).WaitAsync(Bound));
        Assert.Equal(ModbusExceptionCode.IllegalDataAddress, ex.Code);
        Assert.Equal(ModbusFunctionCode.ReadInputRegisters, ex.Function);
        // The line is still usable afterwards.
        Assert.Single(await master.ReadRegistersAsync(1, ModbusArea.Holding, 0, 1).WaitAsync(Bound));
    }

    [Fact]
    public async Task Tcp_writes_of_every_function_code_are_read_back()
    {
        using var server = await PymodbusServer.StartTcpAsync(PymodbusPoints.Units);
        await using var master = new ModbusTcpConnection("127.0.0.1", server.Port, Options);
        await WriteAndReadBackAsync(master);
    }

    [Fact]
    public async Task Rtu_writes_of_every_function_code_are_read_back()
    {
        using var pty = await SocatPtyPair.StartAsync();
        using var server = await PymodbusServer.StartRtuAsync(pty.PathB, 19200, PymodbusPoints.Units);
        await using var master = ModbusRtuConnection.Serial(new SerialPortSettings(pty.PathA, 19200), Options);
        await WriteAndReadBackAsync(master);
    }

    [Fact]
    public async Task Server_killed_and_restarted_mid_poll_leaves_a_visible_gap_then_samples_resume()
    {
        int port = PymodbusServer.FreePort();
        var server = await PymodbusServer.StartTcpAsync(PymodbusPoints.Units, port);
        PymodbusServer? restarted = null;
        try
        {
            await using var master = new ModbusTcpConnection("127.0.0.1", port, Options with
            {
                Timeout = TimeSpan.FromMilliseconds(500),
                Retries = 0,
                ReconnectDelay = TimeSpan.FromMilliseconds(100),
                MaxReconnectDelay = TimeSpan.FromMilliseconds(400),
            });
            var tag = PymodbusPoints.Tags.First(t => t.Tag.DataType == ModbusDataType.Int64 && t.Tag.Area == ModbusArea.Holding);
            var poller = new ModbusPoller(master, [tag.Tag], new ModbusPollerOptions
            {
                Interval = TimeSpan.FromMilliseconds(100),
                DeadUnitBackoff = TimeSpan.FromMilliseconds(100),
                MaxDeadUnitBackoff = TimeSpan.FromMilliseconds(400),
            });

            var seen = new List<ModbusSample>();
            bool killed = false;
            using var cts = new CancellationTokenSource(Bound);
            await foreach (var cycle in poller.RunAsync(cts.Token))
            {
                seen.AddRange(cycle);
                if (!killed && seen.Count(s => s.Quality == ModbusQuality.Good) >= 3)
                {
                    server.Kill();
                    killed = true;
                }
                else if (killed && restarted is null && seen.Count(s => s.Quality == ModbusQuality.Bad) >= 3)
                {
                    restarted = await PymodbusServer.StartTcpAsync(PymodbusPoints.Units, port);
                }
                else if (restarted is not null && seen.Count(s => s.Quality == ModbusQuality.Good) >= 6)
                {
                    break;
                }
            }

            var qualities = string.Concat(seen.Select(s => s.Quality == ModbusQuality.Good ? 'G' : 'B'));
            Assert.True(System.Text.RegularExpressions.Regex.IsMatch(qualities, "^G{3,}B{3,}G{3,}$"),
                $"{qualities}\n{master.Counters}\nlast: {seen[^1].Reason}\n{restarted?.Output}");
            Assert.All(seen.Where(s => s.Quality == ModbusQuality.Good), s => Assert.Equal(tag.Expected, s.Value));
            Assert.All(seen.Where(s => s.Quality == ModbusQuality.Bad), s => Assert.Null(s.Value));
            Assert.True(master.Counters.Connects >= 2, master.Counters.ToString());
        }
        finally
        {
            server.Dispose();
            restarted?.Dispose();
        }
    }

    private static async Task AssertEveryPointAsync(ModbusConnection master, PymodbusServer server)
    {
        var points = PymodbusPoints.Tags;
        var poller = new ModbusPoller(master, points.Select(p => p.Tag));
        Assert.True(poller.Plan.Count >= 2, "the points should need more than one 125-register block per area");
        var samples = (await poller.PollOnceAsync().WaitAsync(Bound)).ToDictionary(s => s.Tag.Name);
        foreach (var (tag, expected) in points)
        {
            var sample = samples[tag.Name];
            Assert.True(sample.Quality == ModbusQuality.Good, $"{tag.Name}: {sample.Reason}\n{server.Output}");
            Assert.True(expected == sample.Value, $"{tag.Name}: expected {expected}, got {sample.Value}");
        }

        Assert.Equal(points.Count, samples.Count);

        // Bits, and the single-value read the CLI uses.
        var coils = await master.ReadBitsAsync(PymodbusPoints.Unit, ModbusArea.Coil, 0, 20).WaitAsync(Bound);
        Assert.Equal(PymodbusPoints.Coils, Enumerable.Range(0, 20).Where(i => coils[i]));
        var inputs = await master.ReadBitsAsync(PymodbusPoints.Unit, ModbusArea.Discrete, 0, 12).WaitAsync(Bound);
        Assert.Equal(PymodbusPoints.DiscreteInputs, Enumerable.Range(0, 12).Where(i => inputs[i]));
        var first = points[0];
        var read = await master.ReadValuesAsync(PymodbusPoints.Unit, first.Tag.Area, first.Tag.Address, first.Tag.DataType, first.Tag.WordOrder, count: 1).WaitAsync(Bound);
        Assert.Equal(first.Expected, Assert.Single(read).Value);
    }

    private static async Task WriteAndReadBackAsync(ModbusConnection master)
    {
        await master.WriteRegisterAsync(1, 900, 0xCAFE).WaitAsync(Bound);
        await master.WriteRegistersAsync(1, 901, [7, 8, 9]).WaitAsync(Bound);
        await master.WriteCoilAsync(1, 900, true).WaitAsync(Bound);
        await master.WriteCoilsAsync(1, 910, [true, false, true, false, false, false, false, false, false, true]).WaitAsync(Bound);
        Assert.Equal(new ushort[] { 0xCAFE, 7, 8, 9 }, await master.ReadRegistersAsync(1, ModbusArea.Holding, 900, 4).WaitAsync(Bound));
        Assert.True((await master.ReadBitsAsync(1, ModbusArea.Coil, 900, 1).WaitAsync(Bound))[0]);
        Assert.Equal(new[] { true, false, true, false, false, false, false, false, false, true }, await master.ReadBitsAsync(1, ModbusArea.Coil, 910, 10).WaitAsync(Bound));
    }
}
