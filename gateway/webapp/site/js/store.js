// Shared state of videos and follows, so a like or follow made in one place shows everywhere
// it is on screen (the feed, a profile's grid, the player over it).

const subscribers = new Set();

// subscribe registers f(event) for 'video' ({video}) and 'follow' ({userId, following}) events.
export function subscribe(f) {
  subscribers.add(f);
  return () => subscribers.delete(f);
}

export function publish(event) {
  subscribers.forEach((f) => f(event));
}
