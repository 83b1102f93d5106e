using EdgeCollector.Pipeline;
using EdgeCollector.Sinks;

namespace EdgeCollector.Host.Tests.Sinks;

public sealed class JsonlMessageSinkTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edge-jsonl-").FullName;

    private static StoredMessage Message(long seq) => new(seq, "t/x", System.Text.Encoding.UTF8.GetBytes($$"""{"seq":{{seq}}}"""), "id" + seq, 0, false);

    [Fact]
    public async Task A_torn_last_line_left_by_a_kill_is_cut_before_appending()
    {
        string path = Path.Combine(_dir, "m.jsonl");
        await File.WriteAllTextAsync(path, "{\"topic\":\"t/x\",\"payload\":{\"seq\":1}}\n{\"topic\":\"t/x\",\"pay");
        await new JsonlMessageSink(path).DeliverAsync([Message(2)], CancellationToken.None);
        var lines = await File.ReadAllLinesAsync(path);
        Assert.Equal(["{\"topic\":\"t/x\",\"payload\":{\"seq\":1}}", "{\"topic\":\"t/x\",\"payload\":{\"seq\":2}}"], lines);
    }

    [Fact]
    public async Task A_file_that_is_only_a_fragment_is_emptied_and_a_whole_file_is_kept()
    {
        string torn = Path.Combine(_dir, "torn.jsonl");
        await File.WriteAllTextAsync(torn, new string('x', 10_000));
        await new JsonlMessageSink(torn).DeliverAsync([Message(1)], CancellationToken.None);
        Assert.Equal(["{\"topic\":\"t/x\",\"payload\":{\"seq\":1}}"], await File.ReadAllLinesAsync(torn));

        string whole = Path.Combine(_dir, "whole.jsonl");
        var sink = new JsonlMessageSink(whole);
        await sink.DeliverAsync([Message(1)], CancellationToken.None);
        await new JsonlMessageSink(whole).DeliverAsync([Message(2)], CancellationToken.None);
        Assert.Equal(2, (await File.ReadAllLinesAsync(whole)).Length);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
