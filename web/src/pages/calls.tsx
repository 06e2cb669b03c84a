export function CallList(_p: any) { return <p>TODO</p>; }
