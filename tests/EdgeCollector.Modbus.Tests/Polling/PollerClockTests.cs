namespace EdgeCollector.Modbus.Tests.Polling;

/// <summary>Back-off and timestamps against a clock the test moves (timers stay real, so timeouts still fire).</summary>
public sealed class PollerClockTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private sealed class ManualClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public async Task A_dead_unit_is_retried_after_a_doubling_back_off_and_samples_carry_the_injected_time()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 11, 21, 8, 0, 0, TimeSpan.Zero));
        var units = new ModbusUnitMap();
        units.Add(1).SetRegisters(ModbusArea.Holding, 0, [5]);
        units.Add(2).SetRegisters(ModbusArea.Holding, 0, [6]);
        units.SetMuted(2, true);
        await using var slave = new ModbusTcpSlave(units).Start();
        await using var master = new ModbusTcpConnection("127.0.0.1", slave.LocalEndPoint.Port, new ModbusConnectionOptions
        {
            Timeout = TimeSpan.FromSeconds(1), // each attempt on the dead unit costs this much real time
            Retries = 0,
            BreakAfterTimeouts = 100,
        }, clock);
        var poller = new ModbusPoller(
            master,
            [new ModbusTag("a", 1, ModbusArea.Holding, 0, ModbusDataType.UInt16), new ModbusTag("b", 2, ModbusArea.Holding, 0, ModbusDataType.UInt16)],
            new ModbusPollerOptions { DeadUnitBackoff = TimeSpan.FromSeconds(1), MaxDeadUnitBackoff = TimeSpan.FromSeconds(4) },
            clock);

        async Task<(bool Attempted, IReadOnlyList<ModbusSample> Samples)> Cycle()
        {
            var samples = await poller.PollOnceAsync().WaitAsync(Bound);
            // A unit in back-off reports nothing; an attempted one reports a sample (Bad while dead).
            return (samples.Any(s => s.Tag.Name == "b"), samples);
        }

        var (attempted, samples) = await Cycle();
        Assert.True(attempted);
        Assert.All(samples, s => Assert.Equal(clock.Now, s.Timestamp));
        Assert.Equal(5, samples.Single(s => s.Tag.Name == "a").Value);

        // Back-off 1 s, then 2 s, then 4 s (the ceiling), then stays at 4 s.
        foreach (var backoff in new[] { 1, 2, 4, 4 })
        {
            clock.Now += TimeSpan.FromSeconds(backoff) - TimeSpan.FromMilliseconds(1);
            (attempted, samples) = await Cycle();
            Assert.False(attempted, $"asked again before the {backoff} s back-off ended");
            Assert.Equal("a", Assert.Single(samples).Tag.Name);
            Assert.True(poller.IsBackingOff(2));

            clock.Now += TimeSpan.FromMilliseconds(1);
            (attempted, samples) = await Cycle();
            Assert.True(attempted, $"not asked after the {backoff} s back-off");
            Assert.Equal(ModbusQuality.Bad, samples.Single(s => s.Tag.Name == "b").Quality);
        }

        // The unit comes back: one good answer clears the back-off.
        units.SetMuted(2, false);
        clock.Now += TimeSpan.FromSeconds(4);
        (_, samples) = await Cycle();
        Assert.Equal(6, samples.Single(s => s.Tag.Name == "b").Value);
        Assert.False(poller.IsBackingOff(2));
        (_, samples) = await Cycle();
        Assert.Equal(2, samples.Count);
    }
}
