package bench

// profileParagraph is the reading of the steady-state profile that goes
// into BENCHMARKS.md. It is written by hand from a full run's profile and
// kept with the code so that a regenerated report carries it; revise it
// when the tables below it tell a different story.
const profileParagraph = `(analysis pending a full run)`
