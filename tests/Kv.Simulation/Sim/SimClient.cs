namespace Kv.Simulation.Sim;

/// <summary>A client issuing one operation at a time, retrying across nodes until its deadline.</summary>
public sealed class SimClient
{
    public SimClient(int id) => Id = id;

    public int Id { get; }
    public long NextSeq { get; set; }
    public long OpId { get; set; }
    public int Attempt { get; set; }
    public int Target { get; set; }
    public bool Busy { get; set; }
    public bool IsWrite { get; set; }
    public string Key { get; set; } = "";
    public string Value { get; set; } = "";
    public long Seq { get; set; }
    public long InvokeUs { get; set; }
    public long DeadlineUs { get; set; }
    public bool Stopped { get; set; }
    public int Completed { get; set; }
}
