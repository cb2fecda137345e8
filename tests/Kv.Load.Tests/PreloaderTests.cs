namespace Kv.Load.Tests;

public class PreloaderTests
{
    [Theory]
    [InlineData(10_000, 1_000)]
    [InlineData(2_001, 128)]
    [InlineData(5, 128)]
    [InlineData(0, 7)]
    public void Chunks_cover_every_key_once_in_runs_no_longer_than_the_limit(int keys, int chunkMax)
    {
        var chunks = Preloader.Chunks(keys, chunkMax).ToList();
        Assert.All(chunks, c => Assert.InRange(c.Count, 1, chunkMax));
        Assert.Equal(Enumerable.Range(0, keys), chunks.SelectMany(c => Enumerable.Range(c.First, c.Count)));
    }

    [Fact]
    public async Task Every_key_is_written_once_through_the_targets_batches()
    {
        var target = new RecordingTarget(putManyKeysMax: 64);
        await Preloader.RunAsync(target, new KeySpace(1_000, 8, seed: 1), concurrency: 4, CancellationToken.None);
        Assert.Equal(Enumerable.Range(0, 1_000), target.Written.Order());
        Assert.All(target.Batches, b => Assert.InRange(b, 1, 64));
    }

    private sealed class RecordingTarget(int putManyKeysMax) : ILoadTarget
    {
        private readonly object _lock = new();

        public List<int> Written { get; } = [];

        public List<int> Batches { get; } = [];

        public int PutManyKeysMax => putManyKeysMax;

        public Task PutAsync(int key, CancellationToken cancellationToken) => throw new InvalidOperationException("the preloader should batch");

        public Task GetAsync(int key, CancellationToken cancellationToken) => throw new InvalidOperationException("not a read");

        public Task SerializableGetAsync(int key, CancellationToken cancellationToken) => throw new InvalidOperationException("not a read");

        public async Task PutManyAsync(int firstKey, int count, CancellationToken cancellationToken)
        {
            await Task.Yield();
            lock (_lock)
            {
                Written.AddRange(Enumerable.Range(firstKey, count));
                Batches.Add(count);
            }
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
