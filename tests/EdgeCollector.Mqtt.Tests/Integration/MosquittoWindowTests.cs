using System.Text;
using EdgeCollector.Mqtt.Client;
using EdgeCollector.Mqtt.Packets;
using EdgeCollector.Mqtt.Tests.Infrastructure;

namespace EdgeCollector.Mqtt.Tests.Integration;

/// <summary>mosquitto with <c>max_inflight_messages 300</c>, which it announces as its v5 Receive Maximum.</summary>
public sealed class RaisedInflightMosquittoFixture : IAsyncLifetime
{
    internal MosquittoBroker Broker { get; private set; } = null!;

    public async Task InitializeAsync() => Broker = await MosquittoBroker.StartAsync("max_inflight_messages 300");

    public async Task DisposeAsync()
    {
        if (Broker is not null) await Broker.DisposeAsync();
    }
}

/// <summary>
/// The in-flight window against a real broker whose Receive Maximum is raised: v5 takes the smaller of MaxInFlight
/// and the broker's 300 (which then lets the read loop coalesce PUBACKs), and thousands of messages arrive once and
/// in order, as an independent mosquitto_sub sees them.
/// </summary>
[Trait("Category", "Integration")]
public sealed class MosquittoWindowTests(RaisedInflightMosquittoFixture fixture) : IClassFixture<RaisedInflightMosquittoFixture>
{
    private readonly MosquittoBroker _broker = fixture.Broker;

    private MqttClientOptions Options(MqttProtocolVersion version, int maxInFlight) => new()
    {
        Host = "127.0.0.1",
        Port = _broker.PlainPort,
        ClientId = "win-" + Guid.NewGuid().ToString("N")[..8],
        ProtocolVersion = version,
        UserName = MosquittoBroker.User,
        Password = MosquittoBroker.Password,
        MaxInFlight = maxInFlight,
    };

    [Theory]
    [InlineData(MqttProtocolVersion.V500, 1000, 300, true)]  // the broker's Receive Maximum 300 caps our 1,000; 300 ≥ 256 coalesces
    [InlineData(MqttProtocolVersion.V500, 64, 64, false)]    // our MaxInFlight below the broker's 300
    [InlineData(MqttProtocolVersion.V311, 1000, 1000, true)] // 3.1.1: no Receive Maximum, MaxInFlight alone
    public async Task Window_follows_receive_maximum_and_every_message_arrives_once_in_order(MqttProtocolVersion version, int maxInFlight, int window, bool coalesces)
    {
        string topic = $"test/{Guid.NewGuid():N}/window";
        using var sub = await MosquittoSubscriber.StartAsync(_broker, topic);
        await using var client = new MqttClient(Options(version, maxInFlight));
        await client.ConnectAsync();
        Assert.Equal(window, client.InFlightLimit);
        const int Count = 6000;
        var payloads = Enumerable.Range(0, Count).Select(i => $"m{i:D5}").ToList();
        var acks = payloads.Select(p => client.PublishAsync(topic, Encoding.UTF8.GetBytes(p))).ToList();
        await Task.WhenAll(acks).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(coalesces, client.Counters.CoalescePauses > 0);
        Assert.Equal(MqttConnectionState.Connected, client.State);

        var got = await sub.WaitForAsync(m => m.Count >= Count, TimeSpan.FromSeconds(30));
        Assert.Equal(payloads, got.Select(m => m.Payload));
        await client.DisconnectAsync();
    }
}
