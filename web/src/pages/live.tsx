export function LiveBoard(_p: any) { return <p>TODO</p>; }
