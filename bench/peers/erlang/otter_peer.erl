%% Erlang/OTP peer programs for otter's side-by-side benchmarks
%% (see README.md in this directory for the workload definitions).
%%
%% Started by ./run as
%%     erl -noinput +S 2 ... -s otter_peer main -extra WORKLOAD [--quick]
%% and prints exactly one line to stdout, `erlang <workload> <value> <unit>`.
%% Everything else goes to stderr. Exit status 0 on success, 1 on failure,
%% 2 on bad usage.
%%
%% This module also is the supervisor callback module for the `restart`
%% workload (init/1); the gen_server used by `call` and `restart` lives in
%% otter_peer_server, the TCP echo server in otter_peer_echo.
-module(otter_peer).
-behaviour(supervisor).

-export([main/0]).
-export([init/1]).

%% Every run is bounded by one deadline (default 120 s, override with
%% OTTER_PEER_TIMEOUT_S). The driver waits on it; the measured loops
%% themselves use plain `receive` without `after`, so that no timer is armed
%% on the hot path.
-define(DEFAULT_TIMEOUT_S, 120).

%% --quick divides every count by this.
-define(QUICK_DIV, 100).

%%====================================================================
%% Entry point
%%====================================================================

main() ->
    try
        dispatch(init:get_plain_arguments())
    catch
        Class:Reason:Stack ->
            die(1, "internal error: ~p:~P~n~P", [Class, Reason, 30, Stack, 30])
    end.

dispatch(["echo-server" | Args]) ->
    otter_peer_echo:main(Args);
dispatch(["dist-peer" | _]) ->
    dist_peer();
dispatch([Name, "--peer", Peer]) ->
    run_dist(Name, Peer, 1);
dispatch([Name, "--peer", Peer, "--quick"]) ->
    run_dist(Name, Peer, ?QUICK_DIV);
dispatch([Name]) ->
    run(Name, 1);
dispatch([Name, "--quick"]) ->
    run(Name, ?QUICK_DIV);
dispatch(_) ->
    die(2, "usage: run WORKLOAD [--quick] | run echo-server --port PORT", []).

%% {Function, full-size count, unit}. The count is what --quick divides.
spec("pingpong") -> {fun pingpong/1, 1000000, "ns/roundtrip"};
spec("ring")     -> {fun ring/1, 10000000, "ns/hop"};
spec("spawn")    -> {fun spawn_bench/1, 1000000, "ns/process"};
spec("memory")   -> {fun memory/1, 1000000, "bytes/process"};
spec("fanin")    -> {fun fanin/1, 100000, "Mmsg/s"};   % per sender
spec("cascade")  -> {fun cascade/1, 100000, "ns/link"};
spec("big")      -> {fun big/1, 2000, "Mmsg/s"};       % pings per process
spec("call")     -> {fun call/1, 1000000, "ns/call"};
spec("restart")  -> {fun restart/1, 100000, "ns/restart"};
spec("selective") -> {fun selective/1, 100000, "ns/roundtrip"};
spec(_)          -> undefined.

run(Name, Div) ->
    case spec(Name) of
        undefined ->
            die(2, "unknown workload ~s", [Name]);
        {Fun, Count, Unit} ->
            N = Count div Div,
            Deadline = timeout_ms(),
            %% A fresh process with an empty mailbox runs the workload.
            {Pid, Ref} = spawn_monitor(fun() -> exit({done, Fun(N)}) end),
            receive
                {'DOWN', Ref, process, Pid, {done, Value}} ->
                    io:format("erlang ~s ~.2f ~s~n", [Name, float(Value), Unit]),
                    erlang:halt(0);
                {'DOWN', Ref, process, Pid, Reason} ->
                    die(1, "~s failed: ~P", [Name, Reason, 30])
            after Deadline ->
                die(1, "~s timed out after ~b ms", [Name, Deadline])
            end
    end.

%% The distribution workloads: this node (named by ./run) against Peer.
run_dist(Name, PeerNode, Div) ->
    {Fun, Count, Unit} = case Name of
        "dist_pingpong" -> {fun dist_pingpong/2, 100000, "us/roundtrip"};
        "dist_throughput" -> {fun dist_throughput/2, 2000000, "Mmsg/s"};
        _ -> die(2, "unknown workload ~s", [Name])
    end,
    Peer = list_to_atom(PeerNode),
    N = Count div Div,
    {Pid, Ref} = spawn_monitor(fun() -> exit({done, Fun(Peer, N)}) end),
    Deadline = timeout_ms(),
    receive
        {'DOWN', Ref, process, Pid, {done, Value}} ->
            io:format("erlang ~s ~.2f ~s~n", [Name, float(Value), Unit]),
            erlang:halt(0);
        {'DOWN', Ref, process, Pid, Reason} ->
            die(1, "~s failed: ~P", [Name, Reason, 30])
    after Deadline ->
        die(1, "~s timed out after ~b ms", [Name, Deadline])
    end.

timeout_ms() ->
    case os:getenv("OTTER_PEER_TIMEOUT_S") of
        false -> ?DEFAULT_TIMEOUT_S * 1000;
        S -> list_to_integer(S) * 1000
    end.

die(Code, Fmt, Args) ->
    io:format(standard_error, "erlang: " ++ Fmt ++ "~n", Args),
    erlang:halt(Code).

now_ns() ->
    erlang:monotonic_time(nanosecond).

%% Receive N copies of the atom Msg.
collect(0, _Msg) ->
    ok;
collect(N, Msg) ->
    receive Msg -> collect(N - 1, Msg) end.

hang() ->
    receive after infinity -> ok end.

%%====================================================================
%% pingpong: 2 processes, N request/reply round trips, one at a time.
%%====================================================================

pingpong(N) ->
    Ponger = spawn_link(fun pong/0),
    T0 = now_ns(),
    ping(Ponger, N),
    (now_ns() - T0) / N.

ping(_Ponger, 0) ->
    ok;
ping(Ponger, N) ->
    Ponger ! {ping, self()},
    receive pong -> ping(Ponger, N - 1) end.

pong() ->
    receive
        {ping, From} ->
            From ! pong,
            pong()
    end.

%%====================================================================
%% ring: 503 processes in a ring, one integer token passed Hops times.
%%====================================================================

-define(RING_SIZE, 503).

ring(Hops) ->
    Self = self(),
    %% The first node learns its successor (the last node spawned) once the
    %% rest of the ring exists; every other node points at its predecessor.
    First = spawn_link(fun() ->
                               receive {next, Next} -> ring_node(Next, Self) end
                       end),
    Last = lists:foldl(fun(_, Next) ->
                               spawn_link(fun() -> ring_node(Next, Self) end)
                       end, First, lists:seq(2, ?RING_SIZE)),
    First ! {next, Last},
    T0 = now_ns(),
    Last ! Hops,
    receive ring_done -> ok end,
    (now_ns() - T0) / Hops.

%% Each node forwards the token, decremented; whoever receives 0 reports.
ring_node(Next, Main) ->
    receive
        0 ->
            Main ! ring_done;
        K ->
            Next ! K - 1,
            ring_node(Next, Main)
    end.

%%====================================================================
%% spawn: spawn N processes, each sends one message to the parent and
%% exits; time until all N messages have arrived.
%%====================================================================

spawn_bench(N) ->
    %% The children's messages pile up while the parent is still spawning.
    %% With the queue on the heap, every minor GC of the parent would walk
    %% that whole queue (quadratic overall); off_heap is the documented
    %% setting for a process that receives lots of messages.
    process_flag(message_queue_data, off_heap),
    T0 = now_ns(),
    spawn_children(N, self()),
    collect(N, child_done),
    (now_ns() - T0) / N.

spawn_children(0, _Parent) ->
    ok;
spawn_children(N, Parent) ->
    spawn(fun() -> Parent ! child_done end),
    spawn_children(N - 1, Parent).

%%====================================================================
%% memory: N processes blocked in receive; VmRSS growth / N.
%%====================================================================

%% Children are started in batches and each acknowledges once it is running
%% (it then blocks in receive); waiting for every batch keeps the parent's
%% mailbox small, so a million queued acks do not inflate the figure.
-define(MEMORY_BATCH, 1000).

memory(N) ->
    erlang:garbage_collect(),
    Before = vmrss(),
    spawn_blocked(N, self()),
    After = vmrss(),
    true = erlang:system_info(process_count) >= N,
    io:format(standard_error, "memory: VmRSS ~b -> ~b bytes, ~b processes~n",
              [Before, After, erlang:system_info(process_count)]),
    (After - Before) / N.

spawn_blocked(0, _Parent) ->
    ok;
spawn_blocked(N, Parent) ->
    Batch = min(N, ?MEMORY_BATCH),
    spawn_waiters(Batch, Parent),
    collect(Batch, waiting),
    spawn_blocked(N - Batch, Parent).

spawn_waiters(0, _Parent) ->
    ok;
spawn_waiters(N, Parent) ->
    spawn(fun() ->
                  Parent ! waiting,
                  receive stop -> ok end
          end),
    spawn_waiters(N - 1, Parent).

%% Resident set size of this OS process, in bytes.
vmrss() ->
    {ok, Status} = file:read_file(["/proc/", os:getpid(), "/status"]),
    {match, [KB]} = re:run(Status, "VmRSS:\\s*(\\d+)\\s*kB",
                           [{capture, all_but_first, list}]),
    list_to_integer(KB) * 1024.

%%====================================================================
%% fanin: 100 senders x PerSender messages to one receiver.
%%====================================================================

-define(FANIN_SENDERS, 100).

fanin(PerSender) ->
    Self = self(),
    %% The documented setting for a process that many others send to: the
    %% message queue lives off the heap, so senders do not contend for the
    %% receiver's main lock and large queues do not burden its GC.
    process_flag(message_queue_data, off_heap),
    Senders = [spawn_link(fun() ->
                                  receive go -> send_n(Self, PerSender) end
                          end)
               || _ <- lists:seq(1, ?FANIN_SENDERS)],
    Total = ?FANIN_SENDERS * PerSender,
    T0 = now_ns(),
    lists:foreach(fun(S) -> S ! go end, Senders),
    collect(Total, msg),
    Total * 1000 / (now_ns() - T0).           % messages/ns * 1000 = Mmsg/s

send_n(_To, 0) ->
    ok;
send_n(To, N) ->
    To ! msg,
    send_n(To, N - 1).

%%====================================================================
%% cascade: a chain of N linked processes; kill the head with a custom
%% reason; time until a monitor on the tail reports it down.
%%====================================================================

cascade(N) ->
    Self = self(),
    %% Each node spawn_links its successor, so by the time the tail exists
    %% every link of the chain is in place. The driver is not linked.
    Head = spawn(fun() -> chain(N - 1, Self) end),
    Tail = receive {chain_tail, T} -> T end,
    Ref = monitor(process, Tail),
    T0 = now_ns(),
    exit(Head, my_reason),
    receive
        {'DOWN', Ref, process, Tail, Reason} ->
            Elapsed = now_ns() - T0,
            my_reason = Reason,
            Elapsed / N
    end.

chain(0, Main) ->
    Main ! {chain_tail, self()},
    hang();
chain(K, Main) ->
    spawn_link(fun() -> chain(K - 1, Main) end),
    hang().

%%====================================================================
%% big: 500 processes; each pings random peers Pings times, one at a time,
%% answering others' pings while it waits for its pong.
%%====================================================================

-define(BIG_PROCS, 500).

big(Pings) ->
    Self = self(),
    Procs = [spawn_link(fun() -> big_init(I, Pings, Self) end)
             || I <- lists:seq(1, ?BIG_PROCS)],
    Peers = list_to_tuple(Procs),
    lists:foreach(fun(P) -> P ! {peers, Peers} end, Procs),
    collect(?BIG_PROCS, big_ready),
    T0 = now_ns(),
    lists:foreach(fun(P) -> P ! go end, Procs),
    collect(?BIG_PROCS, big_done),
    Elapsed = now_ns() - T0,
    lists:foreach(fun(P) -> P ! stop end, Procs),
    ?BIG_PROCS * Pings * 2 * 1000 / Elapsed.

big_init(Index, Pings, Main) ->
    Peers = receive {peers, Ps} -> Ps end,
    Main ! big_ready,
    receive go -> ok end,
    big_ping(Peers, Index, Pings, rand:mwc59_seed(), Main).

big_ping(_Peers, _Index, 0, _Rng, Main) ->
    Main ! big_done,
    big_serve();
big_ping(Peers, Index, N, Rng0, Main) ->
    Rng = rand:mwc59(Rng0),
    %% Uniform over the other peers: draw from 1..Size-1, skip our own slot.
    J = 1 + ((rand:mwc59_value32(Rng) * (?BIG_PROCS - 1)) bsr 32),
    Peer = element(if J >= Index -> J + 1; true -> J end, Peers),
    Peer ! {ping, self()},
    big_await_pong(),
    big_ping(Peers, Index, N - 1, Rng, Main).

big_await_pong() ->
    receive
        pong ->
            ok;
        {ping, From} ->
            From ! pong,
            big_await_pong()
    end.

%% Done pinging; keep answering until everyone is done.
big_serve() ->
    receive
        {ping, From} ->
            From ! pong,
            big_serve();
        stop ->
            ok
    end.

%%====================================================================
%% call: N synchronous gen_server:call/2's, one after another.
%%====================================================================

call(N) ->
    {ok, Server} = otter_peer_server:start_link(plain),
    T0 = now_ns(),
    call_loop(Server, N),
    (now_ns() - T0) / N.

%% Timeout `infinity`: with a finite timeout every call that has to wait
%% arms and cancels a timer, which costs about as much as the call itself
%% here. The run as a whole is still bounded by the driver's deadline.
call_loop(_Server, 0) ->
    ok;
call_loop(Server, N) ->
    pong = gen_server:call(Server, ping, infinity),
    call_loop(Server, N - 1).

%%====================================================================
%% restart: one_for_one supervisor, one permanent gen_server child that is
%% crashed N times; each new incarnation announces itself from init/1.
%%====================================================================

restart(N) ->
    %% Crash and supervisor reports would otherwise dominate.
    ok = logger:set_primary_config(level, none),
    {ok, _Sup} = supervisor:start_link(?MODULE, {restart, self(), N}),
    First = receive {child_started, P} -> P end,
    T0 = now_ns(),
    Last = crash_loop(First, N),
    Elapsed = now_ns() - T0,
    true = is_process_alive(Last),
    Elapsed / N.

crash_loop(Child, 0) ->
    Child;
crash_loop(Child, N) ->
    otter_peer_server:crash(Child),
    receive
        {child_started, Next} -> crash_loop(Next, N - 1)
    end.

%% supervisor callback. The intensity must allow N restarts within the
%% period. OTP's supervisor keeps the timestamps of the restarts within the
%% last `period` seconds in a list that it walks on every restart, so the
%% shortest period (1 s) is the cheapest setting.
init({restart, Driver, N}) ->
    Flags = #{strategy => one_for_one, intensity => N, period => 1},
    Child = #{id => child,
              start => {otter_peer_server, start_link, [{announce, Driver}]},
              restart => permanent,
              type => worker},
    {ok, {Flags, [Child]}}.

%%====================================================================
%% selective: 100,000 unrelated {OtherRef, N} messages wait in the
%% client's mailbox; N request/reply round trips to a server, each reply
%% picked out by the request's fresh reference.
%%====================================================================

%% Not divided by --quick: the queue is what the workload is about.
-define(SELECTIVE_QUEUED, 100000).

selective(N) ->
    %% As in spawn and fanin, the documented setting for a long queue: with
    %% the queue on the heap every garbage collection of the client would
    %% walk all of it, and the figure would grow with the queue for a reason
    %% that has nothing to do with receive.
    process_flag(message_queue_data, off_heap),
    Server = spawn_link(fun selective_server/0),
    queue_unrelated(?SELECTIVE_QUEUED),
    T0 = now_ns(),
    selective_loop(Server, N),
    Elapsed = now_ns() - T0,
    %% Skipped, not consumed.
    {message_queue_len, ?SELECTIVE_QUEUED} = process_info(self(), message_queue_len),
    Elapsed / N.

%% Same shape as the replies, so skipping one takes a reference compare.
queue_unrelated(0) ->
    ok;
queue_unrelated(K) ->
    self() ! {make_ref(), K},
    queue_unrelated(K - 1).

%% make_ref/0 and the receive matching that Ref in the same function: the
%% compiler's receive-marker optimisation (recv_marker_reserve/bind/use)
%% makes the receive start at the messages that arrived after make_ref, so
%% the queued ones are not even looked at.
selective_loop(_Server, 0) ->
    ok;
selective_loop(Server, N) ->
    Ref = make_ref(),
    Server ! {req, self(), Ref},
    receive
        {Ref, reply} -> selective_loop(Server, N - 1)
    end.

selective_server() ->
    receive
        {req, From, Ref} ->
            From ! {Ref, reply},
            selective_server()
    end.

%%====================================================================
%% Distribution: two nodes, this one and a peer started as `run dist-peer`
%% (or otter-workloads --dist-peer); the peer's `bench_peer` process answers
%%   {hello, From}          -> {peer, PeerPid}
%%   {From, N}              -> N + 1
%%   {stream, From, Count}  -> then Count {msg, I}, I = 1..Count; {ack, I}
%%                             after every 1,000th, {done, Ns} after the
%%                             last, timed at the peer from `stream` on.
%%====================================================================

-define(ACK_EVERY, 1000).
-define(WINDOW, 10000).     % at most this many unacknowledged messages

%% The peer's pid: {hello, self()} by name, ten tries a second apart.
find_peer(Node) -> find_peer(Node, 10).

find_peer(Node, 0) ->
    error({no_answer_from, bench_peer, Node});
find_peer(Node, Tries) ->
    {bench_peer, Node} ! {hello, self()},
    receive
        {peer, Pid} when is_pid(Pid) -> Pid
    after 1000 ->
        find_peer(Node, Tries - 1)
    end.

dist_pingpong(Node, N) ->
    Peer = find_peer(Node),
    round_trips(Peer, 5000 * N div 100000),     % warm-up
    T0 = now_ns(),
    round_trips(Peer, N),
    (now_ns() - T0) / 1000 / N.

round_trips(_Peer, 0) ->
    ok;
round_trips(Peer, K) ->
    Peer ! {self(), K},
    Next = K + 1,
    receive Next -> round_trips(Peer, K - 1) end.

dist_throughput(Node, N) ->
    Peer = find_peer(Node),
    Peer ! {stream, self(), N},
    stream(Peer, 1, N, 0),
    receive {done, Ns} -> N * 1000 / Ns end.

stream(_Peer, I, N, _Acked) when I > N ->
    ok;
stream(Peer, I, N, Acked) when I - Acked > ?WINDOW ->
    receive {ack, A} -> stream(Peer, I, N, A) end;
stream(Peer, I, N, Acked) ->
    Peer ! {msg, I},
    stream(Peer, I + 1, N, Acked).

%% The peer: serves until 120 s pass without a message.
dist_peer() ->
    register(bench_peer, self()),
    io:format("ready ~s~n", [node()]),
    peer_loop().

peer_loop() ->
    receive
        {From, N} when is_pid(From), is_integer(N) ->
            From ! N + 1,
            peer_loop();
        {hello, From} ->
            From ! {peer, self()},
            peer_loop();
        {stream, From, Count} ->
            T0 = now_ns(),
            sink(From, 1, Count),
            From ! {done, now_ns() - T0},
            peer_loop();
        stop ->
            erlang:halt(0);
        _ ->
            peer_loop()
    after 120000 ->
        erlang:halt(0)
    end.

sink(_From, I, Count) when I > Count ->
    ok;
sink(From, I, Count) ->
    receive
        {msg, I} ->
            case I rem ?ACK_EVERY of
                0 -> From ! {ack, I};
                _ -> ok
            end,
            sink(From, I + 1, Count)
    end.
