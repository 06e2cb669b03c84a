export function SummaryReport(_p: any) { return <p>TODO</p>; }
