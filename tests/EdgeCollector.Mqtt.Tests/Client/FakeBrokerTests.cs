using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using EdgeCollector.Mqtt.Client;
using EdgeCollector.Mqtt.Formatter;
using EdgeCollector.Mqtt.Packets;

namespace EdgeCollector.Mqtt.Tests.Client;

/// <summary>
/// A scripted broker on a loopback socket, built on the same codec from the server side, for behaviour a
/// real broker will not show on demand: silence (dead link), refused PUBACKs.
/// </summary>
internal sealed class FakeBroker : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _cts = new();
    private readonly Func<MqttPacket, MqttPacket?> _respond;
    private readonly List<Socket> _sockets = [];
    private readonly Task _accept;

    public FakeBroker(MqttProtocolVersion version, Func<MqttPacket, MqttPacket?> respond)
    {
        Version = version;
        _respond = respond;
        _listener.Start();
        _accept = Task.Run(AcceptAsync);
    }

    public MqttProtocolVersion Version { get; }
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
    public List<MqttPacket> Received { get; } = [];

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptSocketAsync(_cts.Token);
                lock (_sockets) _sockets.Add(socket);
                _ = Task.Run(() => ServeAsync(socket));
            }
        }
        catch (OperationCanceledException) { }
        catch (SocketException) { }
    }

    private async Task ServeAsync(Socket socket)
    {
        var buffer = new byte[65536];
        int filled = 0;
        var writer = new MqttPacketWriter(Version);
        try
        {
            while (true)
            {
                int n = await socket.ReceiveAsync(buffer.AsMemory(filled), _cts.Token);
                if (n == 0) return;
                filled += n;
                var packets = new List<MqttPacket>();
                int consumed = Parse(buffer.AsMemory(0, filled), packets);
                Buffer.BlockCopy(buffer, consumed, buffer, 0, filled - consumed);
                filled -= consumed;
                foreach (var p in packets)
                {
                    lock (Received) Received.Add(p);
                    if (_respond(p) is { } reply)
                        await socket.SendAsync(writer.Encode(reply).ToArray(), _cts.Token);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException) { }
    }

    /// <summary>Sends <paramref name="packets"/> to every connected client, in one write each (a scripted broker's own initiative).</summary>
    public async Task SendAsync(IEnumerable<MqttPacket> packets)
    {
        var writer = new MqttPacketWriter(Version);
        var bytes = packets.SelectMany(p => writer.Encode(p).ToArray()).ToArray();
        Socket[] sockets;
        lock (_sockets) sockets = [.. _sockets];
        foreach (var socket in sockets) await socket.SendAsync(bytes, _cts.Token);
    }

    private int Parse(ReadOnlyMemory<byte> data, List<MqttPacket> packets)
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(data));
        while (MqttPacketReader.TryRead(ref reader, Version, 1 << 20, out var p)) packets.Add(p);
        return (int)reader.Consumed;
    }

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        _listener.Stop();
        lock (_sockets) foreach (var s in _sockets) s.Dispose();
        try { await _accept; } catch (OperationCanceledException) { }
        _cts.Dispose();
    }
}

public class FakeBrokerTests
{
    [Fact]
    public async Task Keep_alive_timeout_breaks_a_silent_connection_and_fails_what_is_in_flight()
    {
        // CONNACK, then total silence: no PUBACK, no PINGRESP.
        await using var broker = new FakeBroker(MqttProtocolVersion.V311, p => p is MqttConnectPacket ? new MqttConnAckPacket() : null);
        await using var client = new MqttClient(new MqttClientOptions
        {
            Host = "127.0.0.1", Port = broker.Port, ClientId = "ka", ProtocolVersion = MqttProtocolVersion.V311,
            KeepAlive = TimeSpan.FromSeconds(1), KeepAliveTimeout = TimeSpan.FromSeconds(1),
        });
        var down = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.StateChanged += s => { if (s == MqttConnectionState.Disconnected) down.TrySetResult(); };
        await client.ConnectAsync();
        var publish = client.PublishAsync("t", new byte[] { 1 });
        await down.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await Assert.ThrowsAsync<MqttConnectionLostException>(() => publish.WaitAsync(TimeSpan.FromSeconds(5)));
        lock (broker.Received) Assert.Contains(broker.Received, p => p is MqttPingReqPacket);
        await Assert.ThrowsAsync<MqttConnectionLostException>(() => client.PublishAsync("t", new byte[] { 2 }));
    }

    [Fact]
    public async Task V5_puback_with_failure_reason_fails_the_publish_and_success_codes_below_0x80_do_not()
    {
        await using var broker = new FakeBroker(MqttProtocolVersion.V500, p => p switch
        {
            MqttConnectPacket => new MqttConnAckPacket { Properties = new MqttProperties { ReceiveMaximum = 2 } },
            MqttPublishPacket { Topic: "denied" } pub => new MqttPubAckPacket { PacketId = pub.PacketId, ReasonCode = MqttReasonCode.NotAuthorized, Properties = new MqttProperties { ReasonString = "acl" } },
            MqttPublishPacket pub => new MqttPubAckPacket { PacketId = pub.PacketId, ReasonCode = MqttReasonCode.NoMatchingSubscribers },
            _ => null,
        });
        await using var client = new MqttClient(new MqttClientOptions { Host = "127.0.0.1", Port = broker.Port, ClientId = "v5" });
        await client.ConnectAsync();
        var ex = await Assert.ThrowsAsync<MqttPublishRejectedException>(() => client.PublishAsync("denied", new byte[] { 1 }));
        Assert.Equal(MqttReasonCode.NotAuthorized, ex.ReasonCode);
        Assert.Contains("acl", ex.Message, StringComparison.Ordinal);
        // 0x10 No matching subscribers is a success; the window of 2 (broker Receive Maximum) cycles through 50 messages.
        await Task.WhenAll(Enumerable.Range(0, 50).Select(i => client.PublishAsync("ok", new byte[] { (byte)i }))).WaitAsync(TimeSpan.FromSeconds(10));
        lock (broker.Received)
        {
            var connect = Assert.IsType<MqttConnectPacket>(broker.Received[0]);
            Assert.Equal(MqttProtocolVersion.V500, connect.ProtocolVersion);
            var ids = broker.Received.OfType<MqttPublishPacket>().Select(p => p.PacketId).ToList();
            Assert.Equal(51, ids.Count);
            Assert.DoesNotContain((ushort)0, ids);
        }
    }

    [Fact]
    public async Task Reconnects_after_the_broker_drops_the_connection()
    {
        int connects = 0;
        await using var broker = new FakeBroker(MqttProtocolVersion.V500, p => p is MqttConnectPacket
            ? (Interlocked.Increment(ref connects) == 1
                ? new MqttDisconnectPacket { ReasonCode = MqttReasonCode.ServerBusy } // first session: CONNACK never comes
                : new MqttConnAckPacket())
            : null);
        await using var client = new MqttClient(new MqttClientOptions
        {
            Host = "127.0.0.1", Port = broker.Port, ClientId = "rc",
            ReconnectMinDelay = TimeSpan.FromMilliseconds(50), ReconnectMaxDelay = TimeSpan.FromMilliseconds(200),
        });
        await client.StartAsync();
        await client.WaitConnectedAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(connects >= 2);
        Assert.Equal(MqttConnectionState.Connected, client.State);
    }

    [Fact]
    public async Task Outbox_publisher_removes_and_counts_messages_the_broker_refuses_and_delivers_the_rest()
    {
        await using var broker = new FakeBroker(MqttProtocolVersion.V500, p => p switch
        {
            MqttConnectPacket => new MqttConnAckPacket(),
            MqttPublishPacket { Topic: "denied" } pub => new MqttPubAckPacket { PacketId = pub.PacketId, ReasonCode = MqttReasonCode.NotAuthorized },
            MqttPublishPacket pub => new MqttPubAckPacket { PacketId = pub.PacketId },
            _ => null,
        });
        string dir = Infrastructure.Net.TempDir("outbox-reject");
        try
        {
            var log = new List<string>();
            await using var outbox = await EdgeCollector.Mqtt.Outbox.MqttOutbox.OpenAsync(new EdgeCollector.Mqtt.Outbox.MqttOutboxOptions { Directory = dir });
            await using var client = new MqttClient(new MqttClientOptions { Host = "127.0.0.1", Port = broker.Port, ClientId = "ob" });
            await client.StartAsync();
            await using var publisher = new EdgeCollector.Mqtt.Outbox.OutboxPublisher(client, outbox, log: (_, m, _) => { lock (log) log.Add(m); });
            publisher.Start();
            await publisher.EnqueueAsync("ok", new byte[] { 1 }, false, EdgeCollector.Mqtt.Outbox.OutboxPriority.Aggregate);
            await publisher.EnqueueAsync("denied", new byte[] { 2 }, false, EdgeCollector.Mqtt.Outbox.OutboxPriority.Aggregate);
            await publisher.EnqueueAsync("ok", new byte[] { 3 }, false, EdgeCollector.Mqtt.Outbox.OutboxPriority.Aggregate);
            Assert.True(await publisher.WaitUntilEmptyAsync(TimeSpan.FromSeconds(10)));
            Assert.Equal(2, publisher.PublishedCount);
            Assert.Equal(1, publisher.RejectedCount);
            lock (log) Assert.Contains(log, l => l.Contains("NotAuthorized", StringComparison.Ordinal));
            lock (broker.Received)
                Assert.Equal(["ok", "denied", "ok"], broker.Received.OfType<MqttPublishPacket>().Select(p => p.Topic));
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    [Fact]
    public async Task V5_broker_limits_from_connack_are_respected()
    {
        await using var broker = new FakeBroker(MqttProtocolVersion.V500, p => p is MqttConnectPacket
            ? new MqttConnAckPacket { Properties = new MqttProperties { MaximumQoS = 0, RetainAvailable = 0, MaximumPacketSize = 64 } }
            : null);
        await using var client = new MqttClient(new MqttClientOptions { Host = "127.0.0.1", Port = broker.Port, ClientId = "limits" });
        await client.ConnectAsync();
        var qos = Assert.Throws<NotSupportedException>(() => { _ = client.PublishAsync("t", new byte[] { 1 }, MqttQualityOfService.AtLeastOnce); });
        Assert.Contains("MQTT-3.2.2-11", qos.Message, StringComparison.Ordinal);
        var retain = Assert.Throws<NotSupportedException>(() => { _ = client.PublishAsync("t", new byte[] { 1 }, MqttQualityOfService.AtMostOnce, retain: true); });
        Assert.Contains("MQTT-3.2.2-14", retain.Message, StringComparison.Ordinal);
        // Larger than the broker's Maximum Packet Size: refused locally, the connection stays up.
        await Assert.ThrowsAsync<ArgumentException>(() => client.PublishAsync("t", new byte[100], MqttQualityOfService.AtMostOnce));
        await client.PublishAsync("t", new byte[] { 1 }, MqttQualityOfService.AtMostOnce);
        Assert.Equal(MqttConnectionState.Connected, client.State);
        var deadline = DateTime.UtcNow.AddSeconds(5);
        bool Seen() { lock (broker.Received) return broker.Received.OfType<MqttPublishPacket>().Any(); }
        while (DateTime.UtcNow < deadline && !Seen()) await Task.Delay(10);
        lock (broker.Received) Assert.Single(broker.Received.OfType<MqttPublishPacket>());
    }

    [Theory]
    [InlineData(MqttProtocolVersion.V500, 64, (ushort)5, 5)]     // the broker's Receive Maximum below MaxInFlight wins
    [InlineData(MqttProtocolVersion.V500, 7, (ushort)300, 7)]    // MaxInFlight below the broker's Receive Maximum wins
    [InlineData(MqttProtocolVersion.V500, 9, (ushort)0, 9)]      // no Receive Maximum in CONNACK (65,535): MaxInFlight
    [InlineData(MqttProtocolVersion.V311, 11, (ushort)0, 11)]    // 3.1.1 has no Receive Maximum: MaxInFlight alone
    public async Task In_flight_window_is_filled_to_its_size_and_never_beyond(MqttProtocolVersion version, int maxInFlight, ushort receiveMaximum, int expected)
    {
        // The broker acknowledges nothing by itself: the test lets the window fill, checks that nothing more comes
        // while it is full, then acknowledges everything outstanding at once, twice over.
        await using var broker = new FakeBroker(version, p => p is MqttConnectPacket
            ? new MqttConnAckPacket { Properties = receiveMaximum == 0 ? new MqttProperties() : new MqttProperties { ReceiveMaximum = receiveMaximum } }
            : null);
        await using var client = new MqttClient(new MqttClientOptions
        {
            Host = "127.0.0.1", Port = broker.Port, ClientId = "window", ProtocolVersion = version, MaxInFlight = maxInFlight,
        });
        await client.ConnectAsync();
        Assert.Equal(expected, client.InFlightLimit);
        int total = (2 * expected) + 1;
        var acks = Enumerable.Range(0, total).Select(i => client.PublishAsync("w", new byte[] { (byte)i })).ToList();
        List<MqttPublishPacket> Publishes() { lock (broker.Received) return [.. broker.Received.OfType<MqttPublishPacket>()]; }
        int acked = 0;
        while (acked < total)
        {
            int due = Math.Min(total, acked + expected);
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (Publishes().Count < due && DateTime.UtcNow < deadline) await Task.Delay(5);
            Assert.Equal(due, Publishes().Count);
            await Task.Delay(150); // a client that ignored the window would have sent more by now
            var outstanding = Publishes().Skip(acked).ToList();
            Assert.Equal(due - acked, outstanding.Count);
            Assert.All(acks.Skip(acked).Take(outstanding.Count), t => Assert.False(t.IsCompleted));
            await broker.SendAsync(outstanding.Select(p => new MqttPubAckPacket { PacketId = p.PacketId }));
            acked = due;
        }
        await Task.WhenAll(acks).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(Enumerable.Range(0, total).Select(i => (byte)i), Publishes().Select(p => p.Payload.Span[0]));
        Assert.Equal(0, client.Counters.CoalescePauses); // windows below 256 never pause the read loop
    }

    [Theory]
    [InlineData(255, 255, false)]  // window below the coalescing minimum: never
    [InlineData(20, 20, false)]    // mosquitto's default Receive Maximum
    [InlineData(256, 127, false)]  // less than half of the window in flight: the broker could run dry
    [InlineData(256, 128, true)]
    [InlineData(257, 128, false)]  // half of an odd window rounds up
    [InlineData(257, 129, true)]
    [InlineData(1000, 499, false)]
    [InlineData(1000, 500, true)]
    [InlineData(1000, 1000, true)]
    public void Read_loop_lets_pubacks_gather_only_with_a_large_window_at_least_half_in_flight(int limit, int inFlight, bool pause) =>
        Assert.Equal(pause, EdgeCollector.Mqtt.Client.MqttConnection.ShouldCoalesce(limit, inFlight));

    [Fact]
    public async Task Large_window_coalesces_pubacks_and_every_publish_completes_in_order()
    {
        // A broker that acknowledges every PUBLISH as it arrives: with a window of 1,000 the read loop pauses while
        // at least 500 are in flight, so it reads PUBACKs in bulk; nothing is lost, held back or reordered by that.
        await using var broker = new FakeBroker(MqttProtocolVersion.V311, p => p switch
        {
            MqttConnectPacket => new MqttConnAckPacket(),
            MqttPublishPacket pub => new MqttPubAckPacket { PacketId = pub.PacketId },
            _ => null,
        });
        await using var client = new MqttClient(new MqttClientOptions
        {
            Host = "127.0.0.1", Port = broker.Port, ClientId = "coalesce", ProtocolVersion = MqttProtocolVersion.V311, MaxInFlight = 1000,
        });
        await client.ConnectAsync();
        const int Count = 5000;
        var acks = Enumerable.Range(0, Count).Select(i => client.PublishAsync("c", BitConverter.GetBytes(i))).ToList();
        await Task.WhenAll(acks).WaitAsync(TimeSpan.FromSeconds(30));
        var counters = client.Counters;
        Assert.True(counters.CoalescePauses > 0, "the read loop never paused with 1,000 in flight");
        // After the last PUBACK the window is empty: a small follow-up completes without waiting for anything.
        await client.PublishAsync("c", BitConverter.GetBytes(Count)).WaitAsync(TimeSpan.FromSeconds(5));
        List<int> seen;
        lock (broker.Received) seen = [.. broker.Received.OfType<MqttPublishPacket>().Select(p => BitConverter.ToInt32(p.Payload.Span))];
        Assert.Equal(Enumerable.Range(0, Count + 1), seen);
    }

    [Fact]
    public void Backoff_grows_exponentially_with_jitter_and_is_capped()
    {
        var client = new MqttClient(new MqttClientOptions { Host = "x", ReconnectMinDelay = TimeSpan.FromSeconds(1), ReconnectMaxDelay = TimeSpan.FromSeconds(30) });
        for (int attempt = 0; attempt < 10; attempt++)
        {
            double nominal = Math.Min(30, Math.Pow(2, attempt));
            var delays = Enumerable.Range(0, 200).Select(_ => client.BackoffDelay(attempt).TotalSeconds).ToList();
            Assert.All(delays, d => Assert.InRange(d, nominal * 0.5, nominal));
            Assert.True(delays.Distinct().Count() > 50, "jitter expected");
        }
    }

    [Theory]
    [InlineData("mqtt://127.0.0.1:1883", "127.0.0.1", 1883, false)]
    [InlineData("mqtts://broker.plant:8884", "broker.plant", 8884, true)]
    [InlineData("mqtts://broker.plant", "broker.plant", 8883, true)]
    [InlineData("mqtt://broker", "broker", 1883, false)]
    public void Broker_uri_is_parsed(string uri, string host, int port, bool tls) =>
        Assert.Equal((host, port, tls), MqttClientOptions.ParseBrokerUri(uri));
}
