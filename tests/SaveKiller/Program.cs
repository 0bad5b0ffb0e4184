// SaveKiller MODEL: loads a WordLM checkpoint and the training state beside it (MODEL.state), saves both once and prints
// "ready", then saves both again, to the same paths, forever: every moment of its life after "ready" is inside a checkpoint
// write. InterruptedSaveTests kills it at random moments and checks that both files still hold what they held.
using TinyGrad.Models;
using TinyGrad.Training;

if (args.Length != 1)
{
    Console.Error.WriteLine("usage: SaveKiller MODEL.safetensors (with MODEL.safetensors.state beside it)");
    return 2;
}
string modelPath = args[0], statePath = TrainingState.PathFor(modelPath);
var (model, vocab) = WordLMCheckpoint.Load(modelPath);
var state = TrainingState.Load(statePath);
WordLMCheckpoint.Save(modelPath, model, vocab); // one round before "ready", so that the kills land in steady
state.Save(statePath);                          // writing rather than in the first call's JIT work
Console.WriteLine("ready");
Console.Out.Flush();
while (true)
{
    WordLMCheckpoint.Save(modelPath, model, vocab);
    state.Save(statePath);
}
