export function QueueReport(_p: any) { return <p>TODO</p>; }
