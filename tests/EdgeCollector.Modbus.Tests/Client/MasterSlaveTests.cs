using System.Diagnostics;
using System.Net;
using EdgeCollector.Sim.Modbus;

namespace EdgeCollector.Modbus.Tests.Client;

/// <summary>Our master against our slave over loopback TCP (both framings): the two halves of the same codec.</summary>
public sealed class MasterSlaveTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private static ModbusConnectionOptions Fast => new()
    {
        // Generous for loaded CI machines; tests that wait for a timeout pay it once.
        Timeout = TimeSpan.FromSeconds(1),
        Retries = 0,
        ReconnectDelay = TimeSpan.FromMilliseconds(50),
        MaxReconnectDelay = TimeSpan.FromMilliseconds(200),
    };

    [Fact]
    public async Task Tcp_master_reads_the_simulated_schneider_meter()
    {
        var units = new ModbusUnitMap();
        var meter = new SchneiderPm5xxxMeter(1);
        meter.AttachTo(units);
        meter.SetEnergyKWh(123_456.789);
        await using var slave = new ModbusTcpSlave(units).Start();
        await using var master = new ModbusTcpConnection("127.0.0.1", slave.LocalEndPoint.Port, Fast);

        var wh = await master.ReadValuesAsync(1, ModbusArea.Holding, SchneiderPm5xxxMeter.EnergyInt64WhAddress, ModbusDataType.Int64).WaitAsync(Bound);
        Assert.Equal(123_456_789.0, Assert.Single(wh).Value);
        var kwh = await master.ReadValuesAsync(1, ModbusArea.Holding, SchneiderPm5xxxMeter.EnergyFloatKWhAddress, ModbusDataType.Float32).WaitAsync(Bound);
        Assert.Equal((double)123_456.789f, Assert.Single(kwh).Value);
        Assert.Equal(ModbusConnectionState.Connected, master.State);
    }

    [Fact]
    public async Task Writes_of_every_function_code_land_in_the_slave()
    {
        var units = new ModbusUnitMap();
        var store = units.Add(7);
        store.Define(ModbusArea.Holding, 0, 100);
        store.Define(ModbusArea.Coil, 0, 100);
        await using var slave = new ModbusTcpSlave(units).Start();
        await using var master = new ModbusTcpConnection("127.0.0.1", slave.LocalEndPoint.Port, Fast);

        await master.WriteRegisterAsync(7, 1, 0xBEEF).WaitAsync(Bound);
        await master.WriteRegistersAsync(7, 10, [1, 2, 3]).WaitAsync(Bound);
        await master.WriteCoilAsync(7, 5, true).WaitAsync(Bound);
        await master.WriteCoilsAsync(7, 20, [true, false, true, true, false, false, false, false, true]).WaitAsync(Bound);

        Assert.Equal(new ushort[] { 0xBEEF }, store.GetRegisters(ModbusArea.Holding, 1, 1));
        Assert.Equal(new ushort[] { 1, 2, 3 }, await master.ReadRegistersAsync(7, ModbusArea.Holding, 10, 3).WaitAsync(Bound));
        Assert.Equal(new[] { false, true, false }, await master.ReadBitsAsync(7, ModbusArea.Coil, 4, 3).WaitAsync(Bound));
        Assert.Equal(new[] { true, false, true, true, false, false, false, false, true }, await master.ReadBitsAsync(7, ModbusArea.Coil, 20, 9).WaitAsync(Bound));
    }

    [Fact]
    public async Task Exception_responses_come_back_as_device_exceptions_and_do_not_break_the_link()
    {
        var units = new ModbusUnitMap();
        units.Add(1).Define(ModbusArea.Holding, 0, 10);
        await using var slave = new ModbusTcpSlave(units).Start();
        await using var master = new ModbusTcpConnection("127.0.0.1", slave.LocalEndPoint.Port, Fast);

        var ex = await Assert.ThrowsAsync<ModbusDeviceException>(() => master.ReadRegistersAsync(1, ModbusArea.Holding, 8, 5).WaitAsync(Bound));
        Assert.Equal(ModbusExceptionCode.IllegalDataAddress, ex.Code);
        Assert.Equal(ModbusFunctionCode.ReadHoldingRegisters, ex.Function);
        Assert.Equal(ModbusConnectionState.Connected, master.State);
        Assert.Equal(5, (await master.ReadRegistersAsync(1, ModbusArea.Holding, 0, 5).WaitAsync(Bound)).Length);
        Assert.Equal(1, master.Counters.DeviceExceptions);
    }

    [Fact]
    public async Task A_silent_unit_times_out_without_breaking_the_other_units()
    {
        var units = new ModbusUnitMap();
        units.Add(1).Define(ModbusArea.Holding, 0, 10);
        units.Add(2).Define(ModbusArea.Holding, 0, 10);
        units.SetMuted(2, true);
        await using var slave = new ModbusTcpSlave(units).Start();
        await using var master = new ModbusTcpConnection("127.0.0.1", slave.LocalEndPoint.Port, Fast);

        await Assert.ThrowsAsync<TimeoutException>(() => master.ReadRegistersAsync(2, ModbusArea.Holding, 0, 1).WaitAsync(Bound));
        Assert.Single(await master.ReadRegistersAsync(1, ModbusArea.Holding, 0, 1).WaitAsync(Bound));
        Assert.Equal(1, master.Counters.Timeouts);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Queueing_behind_a_silent_unit_does_not_use_up_the_next_requests_timeout(bool rtuOverTcp)
    {
        var units = new ModbusUnitMap();
        units.Add(1).SetRegisters(ModbusArea.Holding, 0, [1]);
        units.Add(2).SetRegisters(ModbusArea.Holding, 0, [2]);
        units.SetMuted(2, true);
        await using var slave = new ModbusTcpSlave(units, framing: rtuOverTcp ? ModbusTcpFraming.Rtu : ModbusTcpFraming.Mbap).Start();
        await using ModbusConnection master = rtuOverTcp
            ? ModbusRtuConnection.OverTcp("127.0.0.1", slave.LocalEndPoint.Port, Fast)
            : new ModbusTcpConnection("127.0.0.1", slave.LocalEndPoint.Port, Fast);
        Assert.Single(await master.ReadRegistersAsync(1, ModbusArea.Holding, 0, 1).WaitAsync(Bound)); // connected
        slave.ResponseDelay = TimeSpan.FromMilliseconds(500); // the live unit is slow but within the 1 s timeout

        // The silent unit holds the link (one request at a time) for a whole timeout...
        var dead = master.ReadRegistersAsync(2, ModbusArea.Holding, 0, 1);
        await Task.Delay(100);
        // ...and the live unit's request, queued meanwhile, still gets its own full timeout once it is sent:
        // had its clock started while queued, only ~100 ms would be left for a 500 ms answer.
        var alive = await master.ReadRegistersAsync(1, ModbusArea.Holding, 0, 1).WaitAsync(Bound);
        Assert.Equal(new ushort[] { 1 }, alive);
        await Assert.ThrowsAsync<TimeoutException>(() => dead.WaitAsync(Bound));
    }

    [Fact]
    public async Task A_late_reply_is_matched_by_transaction_id_and_dropped()
    {
        var units = new ModbusUnitMap();
        var store = units.Add(1);
        store.SetRegisters(ModbusArea.Holding, 0, [111, 222]);
        await using var slave = new ModbusTcpSlave(units).Start();
        slave.ResponseDelay = TimeSpan.FromMilliseconds(1500);
        await using var master = new ModbusTcpConnection("127.0.0.1", slave.LocalEndPoint.Port, Fast);

        await Assert.ThrowsAsync<TimeoutException>(() => master.ReadRegistersAsync(1, ModbusArea.Holding, 0, 1).WaitAsync(Bound));
        slave.ResponseDelay = TimeSpan.Zero;
        // The late reply to register 0 (111) arrives while this request for register 1 waits: it must not be taken.
        Assert.Equal(new ushort[] { 222 }, await master.ReadRegistersAsync(1, ModbusArea.Holding, 1, 1).WaitAsync(Bound));
        var deadline = DateTime.UtcNow + Bound;
        while (master.Counters.UnmatchedResponses == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Equal(1, master.Counters.UnmatchedResponses);
    }

    [Fact]
    public async Task Pipelined_requests_are_matched_to_their_replies()
    {
        var units = new ModbusUnitMap();
        var store = units.Add(1);
        store.SetRegisters(ModbusArea.Holding, 0, Enumerable.Range(0, 100).Select(i => (ushort)(i * 3)).ToArray());
        await using var slave = new ModbusTcpSlave(units).Start();
        await using var master = new ModbusTcpConnection("127.0.0.1", slave.LocalEndPoint.Port, Fast with { MaxInFlight = 16, Timeout = TimeSpan.FromSeconds(5) });

        var reads = Enumerable.Range(0, 100).Select(i => master.ReadRegistersAsync(1, ModbusArea.Holding, (ushort)i, 1)).ToArray();
        var results = await Task.WhenAll(reads).WaitAsync(Bound);
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (ushort)(i * 3)), results.Select(r => r[0]));
    }

    [Fact]
    public async Task The_link_reconnects_after_the_slave_restarts()
    {
        var units = new ModbusUnitMap();
        units.Add(1).SetRegisters(ModbusArea.Holding, 0, [42]);
        var slave = new ModbusTcpSlave(units).Start();
        int port = slave.LocalEndPoint.Port;
        await using var master = new ModbusTcpConnection("127.0.0.1", port, Fast);
        Assert.Equal(42, (await master.ReadRegistersAsync(1, ModbusArea.Holding, 0, 1).WaitAsync(Bound))[0]);

        await slave.DisposeAsync();
        await Assert.ThrowsAnyAsync<IOException>(() => master.ReadRegistersAsync(1, ModbusArea.Holding, 0, 1).WaitAsync(Bound));
        Assert.Equal(ModbusConnectionState.Broken, master.State);

        await using var restarted = new ModbusTcpSlave(units, new IPEndPoint(IPAddress.Loopback, port)).Start();
        ushort[]? value = null;
        var deadline = DateTime.UtcNow + Bound;
        while (value is null && DateTime.UtcNow < deadline)
        {
            try
            {
                value = await master.ReadRegistersAsync(1, ModbusArea.Holding, 0, 1).WaitAsync(Bound);
            }
            catch (IOException)
            {
                await Task.Delay(50);
            }
        }

        Assert.Equal(new ushort[] { 42 }, value);
        Assert.True(master.Counters.Connects >= 2);
    }

    [Fact]
    public async Task Rtu_over_tcp_serves_many_units_on_one_link()
    {
        var units = new ModbusUnitMap();
        var acrel = new AcrelDtsd1352Meter(3);
        var sdm = new EastronSdm630Meter(4);
        var gas = new GasVolumeCorrector(5);
        acrel.AttachTo(units);
        sdm.AttachTo(units);
        gas.AttachTo(units);
        acrel.SetEnergyKWh(98_765.43);
        sdm.SetEnergyKWh(4321.5);
        sdm.SetTotalPowerW(15_000);
        gas.SetStandardTotalNm3(23_456_789.1234m);
        gas.SetTemperatureC(18.5);
        gas.SetPressureKPa(350.25);
        await using var slave = new ModbusTcpSlave(units, framing: ModbusTcpFraming.Rtu).Start();
        await using var master = ModbusRtuConnection.OverTcp("127.0.0.1", slave.LocalEndPoint.Port, Fast);

        ModbusTag[] tags =
        [
            new("acrel.kwh", 3, ModbusArea.Holding, AcrelDtsd1352Meter.EnergyAddress, ModbusDataType.UInt32, Scale: 0.01) { IsCounter = true },
            new("sdm.kwh", 4, ModbusArea.Input, EastronSdm630Meter.TotalEnergyKWhAddress, ModbusDataType.Float32) { IsCounter = true },
            new("sdm.w", 4, ModbusArea.Input, EastronSdm630Meter.TotalPowerWAddress, ModbusDataType.Float32),
            new("gas.std.bcd", 5, ModbusArea.Holding, GasVolumeCorrector.StandardTotalBcdAddress, ModbusDataType.Bcd48, Scale: GasVolumeCorrector.BcdScale) { IsCounter = true },
            new("gas.std.f32", 5, ModbusArea.Holding, GasVolumeCorrector.StandardTotalFloatAddress, ModbusDataType.Float32) { IsCounter = true },
            new("gas.t", 5, ModbusArea.Holding, GasVolumeCorrector.TemperatureAddress, ModbusDataType.Float32),
            new("gas.p", 5, ModbusArea.Holding, GasVolumeCorrector.PressureAddress, ModbusDataType.Float32),
        ];
        var poller = new ModbusPoller(master, tags);
        var samples = (await poller.PollOnceAsync().WaitAsync(Bound)).ToDictionary(s => s.Tag.Name);

        Assert.All(samples.Values, s => Assert.Equal(ModbusQuality.Good, s.Quality));
        Assert.Equal(98_765.43, samples["acrel.kwh"].Value!.Value, 6);
        Assert.Equal(4321.5, samples["sdm.kwh"].Value);
        Assert.Equal(15_000, samples["sdm.w"].Value);
        Assert.Equal(23_456_789.1234, samples["gas.std.bcd"].Value!.Value, 4);
        Assert.Equal((double)18.5f, samples["gas.t"].Value);
        Assert.Equal((double)350.25f, samples["gas.p"].Value);
        // The float32 copy of the same total lost units and says so.
        Assert.True(samples["gas.std.f32"].Lossy);
        Assert.NotEqual(23_456_789.1234, samples["gas.std.f32"].Value);
        Assert.NotNull(samples["gas.std.f32"].Tag.MetadataWarning);
        Assert.False(samples["gas.std.bcd"].Lossy);
    }

    [Fact]
    public async Task An_exception_on_a_block_is_split_down_to_the_bad_tag()
    {
        var units = new ModbusUnitMap();
        var store = units.Add(1);
        store.SetRegisters(ModbusArea.Holding, 0, [10, 11, 12, 13, 14, 15, 16, 17]);
        store.Undefine(ModbusArea.Holding, 5, 1); // register 5 does not exist in this "device"
        await using var slave = new ModbusTcpSlave(units).Start();
        await using var master = new ModbusTcpConnection("127.0.0.1", slave.LocalEndPoint.Port, Fast);
        var tags = Enumerable.Range(0, 8).Select(i => new ModbusTag($"r{i}", 1, ModbusArea.Holding, (ushort)i, ModbusDataType.UInt16)).ToList();
        var poller = new ModbusPoller(master, tags);
        Assert.Single(poller.Plan);

        var samples = await poller.PollOnceAsync().WaitAsync(Bound);
        Assert.Equal(8, samples.Count);
        var bad = Assert.Single(samples, s => s.Quality == ModbusQuality.Bad);
        Assert.Equal("r5", bad.Tag.Name);
        Assert.Contains("02", bad.Reason, StringComparison.Ordinal);
        Assert.All(samples.Where(s => s.Quality == ModbusQuality.Good), s => Assert.Equal(10 + int.Parse(s.Tag.Name[1..]), s.Value));

        // The split is remembered: the next cycle costs no exception round trips on the good blocks.
        long exceptions = master.Counters.DeviceExceptions;
        samples = await poller.PollOnceAsync().WaitAsync(Bound);
        Assert.Equal(7, samples.Count(s => s.Quality == ModbusQuality.Good));
        Assert.Equal(exceptions + 1, master.Counters.DeviceExceptions);
    }

    [Theory]
    [InlineData(ModbusExceptionCode.GatewayTargetFailedToRespond, true)]
    [InlineData(ModbusExceptionCode.GatewayPathUnavailable, true)]
    [InlineData(ModbusExceptionCode.ServerDeviceBusy, false)]
    public async Task Exceptions_that_are_not_about_addresses_do_not_split_blocks(ModbusExceptionCode code, bool backsOff)
    {
        var units = new ModbusUnitMap();
        var store = units.Add(1);
        store.SetRegisters(ModbusArea.Holding, 0, [1, 2, 3, 4]);
        store.FailWith = code;
        await using var slave = new ModbusTcpSlave(units).Start();
        await using var master = new ModbusTcpConnection("127.0.0.1", slave.LocalEndPoint.Port, Fast);
        var tags = Enumerable.Range(0, 4).Select(i => new ModbusTag($"r{i}", 1, ModbusArea.Holding, (ushort)i, ModbusDataType.UInt16)).ToList();
        var poller = new ModbusPoller(master, tags);

        var samples = await poller.PollOnceAsync().WaitAsync(Bound);
        Assert.Equal(4, samples.Count);
        Assert.All(samples, s => Assert.Equal(ModbusQuality.Bad, s.Quality));
        Assert.All(samples, s => Assert.Contains($"{(byte)code:X2}", s.Reason, StringComparison.Ordinal));
        Assert.Single(poller.Plan);
        Assert.Equal(1, master.Counters.DeviceExceptions);
        Assert.Equal(backsOff, poller.IsBackingOff(1));
    }

    [Fact]
    public async Task A_dead_unit_on_a_shared_line_costs_the_others_one_timeout_then_is_backed_off()
    {
        var units = new ModbusUnitMap();
        units.Add(1).SetRegisters(ModbusArea.Holding, 0, [1]);
        units.Add(2).SetRegisters(ModbusArea.Holding, 0, [2]);
        units.SetMuted(2, true);
        await using var slave = new ModbusTcpSlave(units, framing: ModbusTcpFraming.Rtu).Start();
        await using var master = ModbusRtuConnection.OverTcp("127.0.0.1", slave.LocalEndPoint.Port, Fast);
        var poller = new ModbusPoller(
            master,
            [new ModbusTag("alive", 1, ModbusArea.Holding, 0, ModbusDataType.UInt16), new ModbusTag("dead", 2, ModbusArea.Holding, 0, ModbusDataType.UInt16)],
            new ModbusPollerOptions { DeadUnitBackoff = TimeSpan.FromSeconds(30) });

        var first = await poller.PollOnceAsync().WaitAsync(Bound);
        Assert.Equal(ModbusQuality.Good, first.Single(s => s.Tag.Name == "alive").Quality);
        var dead = first.Single(s => s.Tag.Name == "dead");
        Assert.Equal(ModbusQuality.Bad, dead.Quality);
        Assert.Equal("timeout", dead.Reason);
        Assert.True(poller.IsBackingOff(2));

        // While backing off, the dead unit is not asked at all, so it costs the live one nothing.
        long requests = master.Counters.Requests;
        var second = await poller.PollOnceAsync().WaitAsync(Bound);
        Assert.Equal("alive", Assert.Single(second).Tag.Name);
        Assert.Equal(requests + 1, master.Counters.Requests);
        Assert.Equal(1, master.Counters.Timeouts);
    }

    [Fact]
    public async Task The_poll_loop_reports_a_gap_while_the_slave_is_down_and_resumes()
    {
        var units = new ModbusUnitMap();
        var meter = new SchneiderPm5xxxMeter(1);
        meter.AttachTo(units);
        var slave = new ModbusTcpSlave(units).Start();
        int port = slave.LocalEndPoint.Port;
        await using var master = new ModbusTcpConnection("127.0.0.1", port, Fast);
        var poller = new ModbusPoller(
            master,
            [new ModbusTag("wh", 1, ModbusArea.Holding, SchneiderPm5xxxMeter.EnergyInt64WhAddress, ModbusDataType.Int64)],
            new ModbusPollerOptions { Interval = TimeSpan.FromMilliseconds(50), DeadUnitBackoff = TimeSpan.FromMilliseconds(50), MaxDeadUnitBackoff = TimeSpan.FromMilliseconds(200) });

        using var cts = new CancellationTokenSource(Bound);
        var seen = new List<ModbusSample>();
        ModbusTcpSlave? restarted = null;
        try
        {
            await foreach (var cycle in poller.RunAsync(cts.Token))
            {
                seen.AddRange(cycle);
                meter.SetEnergyKWh(seen.Count);
                if (slave is not null && seen.Count(s => s.Quality == ModbusQuality.Good) >= 3)
                {
                    await slave.DisposeAsync();
                    slave = null;
                }
                else if (slave is null && restarted is null && seen.Count(s => s.Quality == ModbusQuality.Bad) >= 2)
                {
                    restarted = new ModbusTcpSlave(units, new IPEndPoint(IPAddress.Loopback, port)).Start();
                }
                else if (restarted is not null && seen[^1].Quality == ModbusQuality.Good)
                {
                    break;
                }
            }
        }
        finally
        {
            if (slave is not null)
            {
                await slave.DisposeAsync();
            }

            if (restarted is not null)
            {
                await restarted.DisposeAsync();
            }
        }

        // Good samples, then a visible gap of Bad samples with a reason, then Good again.
        var qualities = string.Concat(seen.Select(s => s.Quality == ModbusQuality.Good ? 'G' : 'B'));
        Assert.Matches("^G{3,}B{2,}G+$", qualities);
        Assert.All(seen.Where(s => s.Quality == ModbusQuality.Bad), s => Assert.False(string.IsNullOrEmpty(s.Reason)));
        Assert.True(seen[^1].Timestamp > seen.First(s => s.Quality == ModbusQuality.Bad).Timestamp);
    }
}
