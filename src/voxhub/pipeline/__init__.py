"""The streaming conversation pipeline: frames, stages linked by bounded queues, turn-taking, barge-in."""
