export function OperatorReport(_p: any) { return <p>TODO</p>; }
