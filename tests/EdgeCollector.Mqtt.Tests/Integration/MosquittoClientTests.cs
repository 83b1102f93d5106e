using System.Text;
using EdgeCollector.Mqtt.Client;
using EdgeCollector.Mqtt.Packets;
using EdgeCollector.Mqtt.Tests.Infrastructure;

namespace EdgeCollector.Mqtt.Tests.Integration;

public sealed class MosquittoFixture : IAsyncLifetime
{
    internal MosquittoBroker Broker { get; private set; } = null!;

    public async Task InitializeAsync() => Broker = await MosquittoBroker.StartAsync();

    public async Task DisposeAsync()
    {
        if (Broker is not null) await Broker.DisposeAsync();
    }
}

/// <summary>Our client against mosquitto 2.0, checked by an independent mosquitto_sub.</summary>
[Trait("Category", "Integration")]
public sealed class MosquittoClientTests : IClassFixture<MosquittoFixture>
{
    private readonly MosquittoBroker _broker;

    public MosquittoClientTests(MosquittoFixture fixture) => _broker = fixture.Broker;

    private MqttClientOptions Options(MqttProtocolVersion version, bool tls = false, string? clientId = null, int maxInFlight = 64) => new()
    {
        MaxInFlight = maxInFlight,
        Host = tls ? "localhost" : "127.0.0.1",
        Port = tls ? _broker.TlsPort : _broker.PlainPort,
        UseTls = tls,
        CaFile = tls ? _broker.Pki.CaCert : null,
        ClientId = clientId ?? "edge-" + Guid.NewGuid().ToString("N")[..8],
        ProtocolVersion = version,
        UserName = MosquittoBroker.User,
        Password = MosquittoBroker.Password,
        KeepAlive = TimeSpan.FromSeconds(5),
    };

    [Theory]
    [InlineData(MqttProtocolVersion.V311)]
    [InlineData(MqttProtocolVersion.V500)]
    public async Task Large_and_small_qos1_messages_mixed_all_arrive_once_and_in_order(MqttProtocolVersion version)
    {
        // Sizes around the read loop's inline refill budget (16 KB) and the no-copy payload threshold (16 KB): the
        // window is refilled partly by the read loop and partly by the publish loop, in order.
        string topic = $"test/{Guid.NewGuid():N}/mixed";
        using var sub = await MosquittoSubscriber.StartAsync(_broker, topic);
        await using var client = new MqttClient(Options(version, maxInFlight: 8));
        await client.ConnectAsync();
        int[] sizes = [100, 9_000, 20_000, 5, 17_000];
        var payloads = Enumerable.Range(0, 150).Select(i => $"m{i:D4}" + new string((char)('a' + (i % 26)), sizes[i % sizes.Length])).ToList();
        var acks = payloads.Select(p => client.PublishAsync(topic, Encoding.UTF8.GetBytes(p), MqttQualityOfService.AtLeastOnce)).ToList();
        await Task.WhenAll(acks).WaitAsync(TimeSpan.FromSeconds(30));

        var got = await sub.WaitForAsync(m => m.Count >= payloads.Count, TimeSpan.FromSeconds(20));
        Assert.Equal(payloads, got.Select(m => m.Payload));
        await client.DisconnectAsync();
    }

    [Theory]
    [InlineData(MqttProtocolVersion.V311, false)]
    [InlineData(MqttProtocolVersion.V500, false)]
    [InlineData(MqttProtocolVersion.V311, true)]
    [InlineData(MqttProtocolVersion.V500, true)]
    public async Task Publishes_qos0_and_qos1_seen_by_mosquitto_sub(MqttProtocolVersion version, bool tls)
    {
        string prefix = $"test/{Guid.NewGuid():N}";
        using var sub = await MosquittoSubscriber.StartAsync(_broker, prefix + "/#");
        await using var client = new MqttClient(Options(version, tls));
        var states = new List<MqttConnectionState>();
        client.StateChanged += s => { lock (states) states.Add(s); };
        await client.ConnectAsync();
        Assert.Equal(MqttConnectionState.Connected, client.State);

        const int Count = 200;
        var acks = new List<Task>();
        for (int i = 0; i < Count; i++)
            acks.Add(client.PublishAsync($"{prefix}/q1", Encoding.UTF8.GetBytes($"m{i:D4}"), MqttQualityOfService.AtLeastOnce));
        await Task.WhenAll(acks).WaitAsync(TimeSpan.FromSeconds(20));
        await client.PublishAsync($"{prefix}/q0", Encoding.UTF8.GetBytes("zero"), MqttQualityOfService.AtMostOnce);

        var got = await sub.WaitForAsync(m => m.Count >= Count + 1, TimeSpan.FromSeconds(15));
        var q1 = got.Where(m => m.Topic == $"{prefix}/q1").Select(m => m.Payload).ToList();
        Assert.Equal(Enumerable.Range(0, Count).Select(i => $"m{i:D4}"), q1); // all, once, in order
        Assert.Contains(($"{prefix}/q0", "zero"), got);

        await client.DisconnectAsync();
        lock (states) Assert.Equal([MqttConnectionState.Connecting, MqttConnectionState.Connected, MqttConnectionState.Disconnected], states);
    }

    [Theory]
    [InlineData(MqttProtocolVersion.V311, MqttReasonCode.BadUserNameOrPassword)]   // 3.1.1 return code 4 → see note below
    [InlineData(MqttProtocolVersion.V500, MqttReasonCode.BadUserNameOrPassword)]
    public async Task Wrong_password_is_refused(MqttProtocolVersion version, MqttReasonCode v5Code)
    {
        var o = Options(version);
        await using var client = new MqttClient(new MqttClientOptions
        {
            Host = o.Host, Port = o.Port, ClientId = o.ClientId, ProtocolVersion = version, UserName = MosquittoBroker.User, Password = "wrong",
        });
        var ex = await Assert.ThrowsAsync<MqttConnectRefusedException>(() => client.ConnectAsync());
        // 3.1.1 carries return code 5 (not authorized) or 4; v5 carries 0x86/0x87. mosquitto 2.0 answers "not authorised".
        if (version == MqttProtocolVersion.V311)
            Assert.Contains((byte)ex.ReasonCode, new byte[] { 4, 5 });
        else
            Assert.Contains(ex.ReasonCode, new[] { v5Code, MqttReasonCode.NotAuthorized });
        Assert.Equal(MqttConnectionState.Disconnected, client.State);
    }

    [Fact]
    public async Task Tls_rejects_a_broker_certificate_from_another_ca_and_a_wrong_server_name()
    {
        var o = Options(MqttProtocolVersion.V500, tls: true);
        await using (var wrongCa = new MqttClient(new MqttClientOptions
        {
            Host = "localhost", Port = _broker.TlsPort, UseTls = true, CaFile = _broker.Pki.OtherCaCert,
            ClientId = o.ClientId, UserName = o.UserName, Password = o.Password,
        }))
        {
            await Assert.ThrowsAsync<System.Security.Authentication.AuthenticationException>(() => wrongCa.ConnectAsync());
        }
        await using var wrongName = new MqttClient(new MqttClientOptions
        {
            Host = "127.0.0.1", ServerName = "broker.example", Port = _broker.TlsPort, UseTls = true, CaFile = _broker.Pki.CaCert,
            ClientId = o.ClientId, UserName = o.UserName, Password = o.Password,
        });
        await Assert.ThrowsAsync<System.Security.Authentication.AuthenticationException>(() => wrongName.ConnectAsync());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Tls_with_client_certificate(bool pfx)
    {
        string prefix = $"test/{Guid.NewGuid():N}";
        using var sub = await MosquittoSubscriber.StartAsync(_broker, prefix + "/#");
        var baseOptions = Options(MqttProtocolVersion.V500, tls: true);
        await using var client = new MqttClient(new MqttClientOptions
        {
            Host = "localhost", Port = _broker.MutualTlsPort, UseTls = true, CaFile = _broker.Pki.CaCert,
            ClientCertificateFile = pfx ? _broker.Pki.ClientPfx : _broker.Pki.ClientCert,
            ClientKeyFile = pfx ? null : _broker.Pki.ClientKey,
            ClientCertificatePassword = pfx ? TestPki.PfxPassword : null,
            ClientId = baseOptions.ClientId, UserName = baseOptions.UserName, Password = baseOptions.Password,
        });
        await client.ConnectAsync();
        await client.PublishAsync(prefix + "/x", Encoding.UTF8.GetBytes("mutual"));
        var got = await sub.WaitForAsync(m => m.Count >= 1, TimeSpan.FromSeconds(10));
        Assert.Equal((prefix + "/x", "mutual"), Assert.Single(got));

        // Without a client certificate the same listener refuses the handshake.
        await using var anonymous = new MqttClient(new MqttClientOptions
        {
            Host = "localhost", Port = _broker.MutualTlsPort, UseTls = true, CaFile = _broker.Pki.CaCert,
            ClientId = "no-cert", UserName = baseOptions.UserName, Password = baseOptions.Password, ConnectTimeout = TimeSpan.FromSeconds(5),
        });
        await Assert.ThrowsAnyAsync<Exception>(() => anonymous.ConnectAsync());
    }

    [Theory]
    [InlineData(MqttProtocolVersion.V311)]
    [InlineData(MqttProtocolVersion.V500)]
    public async Task Last_will_is_published_when_the_connection_dies_and_not_on_clean_disconnect(MqttProtocolVersion version)
    {
        string prefix = $"test/{Guid.NewGuid():N}";
        using var sub = await MosquittoSubscriber.StartAsync(_broker, prefix + "/#");
        var o = Options(version);
        var will = new MqttWill { Topic = prefix + "/status", Payload = Encoding.UTF8.GetBytes("offline"), QoS = MqttQualityOfService.AtLeastOnce, Retain = true };
        await using (var clean = new MqttClient(new MqttClientOptions { Host = o.Host, Port = o.Port, ClientId = o.ClientId + "c", ProtocolVersion = version, UserName = o.UserName, Password = o.Password, Will = will }))
        {
            await clean.ConnectAsync();
            await clean.PublishAsync(prefix + "/status", Encoding.UTF8.GetBytes("online-clean"), retain: true);
            await clean.DisconnectAsync();
        }
        await using var dying = new MqttClient(new MqttClientOptions { Host = o.Host, Port = o.Port, ClientId = o.ClientId, ProtocolVersion = version, UserName = o.UserName, Password = o.Password, Will = will });
        await dying.ConnectAsync();
        await dying.PublishAsync(prefix + "/status", Encoding.UTF8.GetBytes("online"), retain: true);
        dying.Abort(new IOException("simulated network failure"));

        var got = await sub.WaitForAsync(m => m.Any(x => x.Payload == "offline"), TimeSpan.FromSeconds(10));
        Assert.Equal(["online-clean", "online", "offline"], got.Select(m => m.Payload));

        // Retained: a new subscriber sees the will as the last status.
        string retained = (await PeerProcess.RunAsync("/usr/bin/mosquitto_sub", [
            "-h", "127.0.0.1", "-p", _broker.PlainPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-u", MosquittoBroker.User, "-P", MosquittoBroker.Password, "-t", prefix + "/status", "-C", "1", "-W", "5"])).Trim();
        Assert.Equal("offline", retained);
    }

    [Theory]
    [InlineData(MqttProtocolVersion.V311)]
    [InlineData(MqttProtocolVersion.V500)]
    public async Task Subscribe_receives_messages_from_mosquitto_pub(MqttProtocolVersion version)
    {
        string topic = $"test/{Guid.NewGuid():N}/in";
        await using var client = new MqttClient(Options(version));
        var received = new TaskCompletionSource<MqttApplicationMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.MessageReceived += m => { received.TrySetResult(m); return Task.CompletedTask; };
        await client.ConnectAsync();
        var codes = await client.SubscribeAsync([new MqttSubscription(topic, MqttQualityOfService.AtLeastOnce)]);
        Assert.Equal([MqttReasonCode.GrantedQoS1], codes);
        await PeerProcess.RunAsync("/usr/bin/mosquitto_pub", [
            "-h", "127.0.0.1", "-p", _broker.PlainPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-u", MosquittoBroker.User, "-P", MosquittoBroker.Password, "-t", topic, "-q", "1", "-m", "hello edge"]);
        var m = await received.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(topic, m.Topic);
        Assert.Equal("hello edge", Encoding.UTF8.GetString(m.Payload.Span));
        Assert.Equal(MqttQualityOfService.AtLeastOnce, m.QoS);
    }

    [Fact]
    public async Task Persistent_session_is_resumed_with_session_present()
    {
        var o = Options(MqttProtocolVersion.V500);
        MqttClientOptions Persistent() => new()
        {
            Host = o.Host, Port = o.Port, ClientId = o.ClientId, UserName = o.UserName, Password = o.Password,
            CleanStart = false, SessionExpirySeconds = 300,
        };
        await using (var first = new MqttClient(Persistent()))
        {
            await first.ConnectAsync();
            Assert.False(first.ConnAck!.SessionPresent);
            await first.DisconnectAsync();
        }
        await using var second = new MqttClient(Persistent());
        await second.ConnectAsync();
        Assert.True(second.ConnAck!.SessionPresent);
        await second.DisconnectAsync();
    }
}
